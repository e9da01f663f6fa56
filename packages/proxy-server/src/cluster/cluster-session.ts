import type { ClusterConnection } from './cluster-connection.js';
import { ClusterUnion, HostDemand, type UnionChange } from './demand-board.js';
import { ItemFeed, publishItem } from './item-feed.js';
import { type LeaseRecord, SessionLease } from './session-lease.js';

/**
 * What one daemon does for one upstream session in a cluster, whichever role the lease gives it:
 * - holder: holds the upstream, subscribes it to the cluster-wide union, publishes every routed item on its subject;
 * - follower: receives the items its host wants from NATS and writes them into its own ring.
 * Either way it publishes its host's demand, so the union is right whoever holds the session next.
 *
 * The daemon supplies the I/O through `SessionRole`; this class only decides who does what, and when.
 */
export interface SessionRole {
  /** The lease is ours: open the upstream (handling a 406 for a half-dead predecessor with the usual backoff). */
  openUpstream(): void;
  /** The lease is gone (or we stop): close the upstream now; another daemon may open one after our TTL. */
  closeUpstream(reason: 'expired' | 'taken' | 'stopped'): void;
  /** Holder only: what the upstream must add and drop so it carries the cluster-wide union. */
  applyUnion(change: UnionChange): void;
  /** Follower only: one item from the holder, bytes as the vendor sent them. */
  deliverItem(channel: string, symbol: string, data: Uint8Array): void;
  /** The holder as this daemon sees it; `null` while none is known (a failover window for local clients). */
  holderChanged?(record: LeaseRecord | null): void;
}

export interface ClusterSessionOptions {
  readonly session: string;
  /** This daemon's id in the cluster (random per start). */
  readonly daemon: string;
  readonly role: SessionRole;
}

export class ClusterSession {
  private readonly cluster: ClusterConnection;
  private readonly options: ClusterSessionOptions;
  private readonly lease: SessionLease;
  private readonly demand: HostDemand;
  private readonly feed: ItemFeed;
  private union: ClusterUnion | undefined;
  private localTopics: readonly string[] = [];

  constructor(cluster: ClusterConnection, options: ClusterSessionOptions) {
    this.cluster = cluster;
    this.options = options;
    const { session, daemon, role } = options;
    const ttlMs = cluster.leaseTtlMs;
    this.demand = new HostDemand({ kv: cluster.demand, session, daemon, ttlMs });
    this.feed = new ItemFeed(cluster.nc, cluster.namespace, session, (channel, symbol, data) =>
      role.deliverItem(channel, symbol, data),
    );
    this.lease = new SessionLease({
      kv: cluster.leases,
      key: session,
      holder: daemon,
      host: cluster.host,
      ttlMs,
      onAcquired: () => this.becomeHolder(),
      onLost: (reason) => this.becomeFollower(reason),
      onHolder: (record) => role.holderChanged?.(record),
    });
  }

  get holding(): boolean {
    return this.lease.state === 'holding';
  }

  async start(): Promise<void> {
    // Demand first: a holder elected a moment later must already see this host's topics.
    await this.demand.set(this.localTopics);
    await this.lease.start();
    if (!this.holding) this.feed.want(this.localTopics);
  }

  /** This host's union for the session changed (a local client subscribed or left). */
  async setLocalDemand(topics: Iterable<string>): Promise<void> {
    this.localTopics = [...new Set(topics)].sort();
    if (!this.holding) this.feed.want(this.localTopics);
    await this.demand.set(this.localTopics);
  }

  /** Holder only: one routed item for the other hosts. */
  publish(channel: string, symbol: string, data: Uint8Array): void {
    if (this.holding)
      publishItem(this.cluster.nc, this.cluster.namespace, this.options.session, channel, symbol, data);
  }

  async stop(): Promise<void> {
    this.feed.stop();
    this.union?.stop();
    await this.lease.stop();
    await this.demand.stop();
  }

  private becomeHolder(): void {
    // The holder gets its items from the upstream itself; NATS copies would be duplicates.
    this.feed.want([]);
    this.options.role.openUpstream();
    const union = new ClusterUnion(
      { kv: this.cluster.demand, session: this.options.session, ttlMs: this.cluster.leaseTtlMs },
      (change) => {
        if (this.union === union) this.options.role.applyUnion(change);
      },
    );
    this.union = union;
    // The watch replays every live host's record first: the first change is the whole union.
    void union.start().catch(() => undefined);
  }

  private becomeFollower(reason: 'expired' | 'taken' | 'stopped'): void {
    this.union?.stop();
    this.union = undefined;
    this.options.role.closeUpstream(reason);
    if (reason !== 'stopped') this.feed.want(this.localTopics);
  }
}
