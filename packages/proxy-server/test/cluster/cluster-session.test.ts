// Three "hosts" (each its own NATS connection to its own server of a real 3-server cluster) share one session:
// exactly one opens the upstream and carries the cluster-wide union, each follower gets exactly its host's items,
// and when the holder is cut off it closes its upstream before a survivor opens one and takes over the union.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterConnection,
  ClusterSession,
  connectCluster,
  type SessionRole,
  topicOf,
} from '../../src/cluster/index.js';
import { type NatsCluster, natsServerAvailable, startNatsCluster } from '../helpers/nats-cluster.js';

const TTL_MS = 1500;
/** Breaks of the minimal-change rule seen by any host's upstream (asserted empty at the end). */
const violations: string[] = [];

interface Host {
  readonly name: string;
  readonly connection: ClusterConnection;
  readonly session: ClusterSession;
  readonly log: Array<{ what: 'open' | 'close'; t: number; reason?: string }>;
  /** The upstream subscription this host holds while it is the holder (applyUnion applied in order). */
  readonly upstream: Set<string>;
  readonly items: string[];
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!natsServerAvailable())('one session shared by three hosts over NATS', () => {
  let cluster: NatsCluster;
  const hosts: Host[] = [];

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    await cluster.ready();
  }, 30_000);

  afterAll(async () => {
    for (const host of hosts) {
      await host.session.stop().catch(() => undefined);
      await host.connection.close().catch(() => undefined);
    }
    await cluster?.stop();
  });

  async function startHost(name: string, server: number, session: string, topics: string[]): Promise<Host> {
    const connection = await connectCluster({
      servers: [cluster.nodes[server]!.url],
      namespace: 'sessiontest',
      leaseTtlMs: TTL_MS,
      // Pinned to "its host's" NATS server: closing that connection cuts the host off.
      discoverServers: false,
    });
    const log: Host['log'] = [];
    const upstream = new Set<string>();
    const items: string[] = [];
    const role: SessionRole = {
      openUpstream: () => log.push({ what: 'open', t: Date.now() }),
      closeUpstream: (reason) => {
        log.push({ what: 'close', t: Date.now(), reason });
        upstream.clear();
      },
      applyUnion: ({ added, removed }) => {
        for (const topic of removed) {
          if (!upstream.has(topic)) violations.push(`${name} removes ${topic} it never added`);
          upstream.delete(topic);
        }
        for (const topic of added) {
          if (upstream.has(topic)) violations.push(`${name} adds ${topic} twice`);
          upstream.add(topic);
        }
      },
      deliverItem: (channel, symbol, data) =>
        items.push(`${topicOf(channel, symbol)}=${Buffer.from(data).toString()}`),
    };
    const clusterSession = new ClusterSession(connection, { session, daemon: name, role });
    await clusterSession.setLocalDemand(topics);
    await clusterSession.start();
    const host: Host = { name, connection, session: clusterSession, log, upstream, items };
    hosts.push(host);
    return host;
  }

  it('one holder carries the union; each follower gets its items; a cut-off holder lets go before the takeover', async () => {
    const session = randomUUID().replaceAll('-', '');
    const wants: Record<string, string[]> = {
      a: ['trades/AAPL', 'trades/MSFT'],
      b: ['trades/MSFT', 'quotes/TSLA'],
      c: ['trades/AAPL', 'bars/BRK.B'],
    };
    const group = await Promise.all(
      ['a', 'b', 'c'].map((name, i) => startHost(name, i, session, wants[name]!)),
    );
    const holder = await waitFor('one holder', () => group.find((h) => h.session.holding));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(group.filter((h) => h.session.holding)).toEqual([holder]);
    expect(group.map((h) => h.log.filter((e) => e.what === 'open').length)).toEqual(
      group.map((h) => (h === holder ? 1 : 0)),
    );
    const everything = ['bars/BRK.B', 'quotes/TSLA', 'trades/AAPL', 'trades/MSFT'];
    await waitFor('the union upstream', () => (holder.upstream.size === 4 ? true : undefined));
    expect([...holder.upstream].sort()).toEqual(everything);

    // The holder routes one item per topic (and one nobody wants): each follower gets exactly its host's items.
    const publishAll = (from: Host, tag: string) => {
      for (const topic of [...everything, 'trades/NVDA']) {
        const slash = topic.indexOf('/');
        from.session.publish(topic.slice(0, slash), topic.slice(slash + 1), Buffer.from(tag));
      }
    };
    publishAll(holder, 'first');
    const followers = group.filter((h) => h !== holder);
    for (const follower of followers) {
      const expected = wants[follower.name]!.map((topic) => `${topic}=first`).sort();
      await waitFor(`${follower.name}'s items`, () =>
        follower.items.length >= expected.length ? true : undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect([...follower.items].sort()).toEqual(expected);
    }
    expect(holder.items).toEqual([]);

    // The holder's host is cut off from NATS (its connection gone): it must close its upstream first.
    await holder.connection.close();
    const closed = await waitFor(
      'old holder lets go',
      () => holder.log.find((e) => e.what === 'close'),
      TTL_MS * 3,
    );
    expect(closed.reason).toBe('expired');
    const next = await waitFor('a new holder', () => followers.find((h) => h.session.holding), TTL_MS * 5);
    const opened = next.log.find((e) => e.what === 'open')!;
    expect(opened.t).toBeGreaterThan(closed.t);
    // The survivors' union is upstream on the new holder; what only the cut-off host wanted leaves with its
    // demand record (at most a TTL after its last write, maybe before the takeover).
    const survivors = [...new Set(followers.flatMap((h) => wants[h.name]!))].sort();
    const sameAsSurvivors = () => [...next.upstream].sort().join() === survivors.join();
    await waitFor('the survivors union on the new holder', () =>
      sameAsSurvivors() ? true : undefined,
    ).catch((error) => {
      throw new Error(
        `${next.name} upstream ${[...next.upstream]} log ${JSON.stringify(next.log)}: ${error}`,
      );
    });

    const remaining = followers.find((h) => h !== next)!;
    remaining.items.length = 0;
    publishAll(next, 'second');
    const expected = wants[remaining.name]!.map((topic) => `${topic}=second`).sort();
    await waitFor(`${remaining.name}'s items after the failover`, () =>
      remaining.items.length >= expected.length ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([...remaining.items].sort()).toEqual(expected);
    // The new holder stopped listening on NATS: it gets items from its own upstream only.
    expect(next.items.filter((item) => item.endsWith('=second'))).toEqual([]);
    expect(violations).toEqual([]);
  }, 60_000);
});
