import type { KV, KvEntry } from '@nats-io/kv';

/**
 * Demand as state: each daemon writes its host's union for a session (the topics its local clients hold, e.g.
 * `trades/AAPL`) under `<session>.<daemon>` in a KV bucket whose max_age is the lease TTL, and re-writes it every
 * TTL/3 while it lives; the holder watches `<session>.*` and keeps the cluster-wide union. A daemon that dies stops
 * re-writing, so its demand expires with its record: the union never keeps a dead host's symbols for longer than
 * a TTL. A clean stop deletes the record at once.
 *
 * `onChange` gets only what changed in the union (the same minimal-change rule as on one host): a topic another
 * host still wants is neither added nor removed.
 */
export interface DemandBoardOptions {
  readonly kv: KV;
  readonly session: string;
  readonly daemon: string;
  readonly ttlMs: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class HostDemand {
  private topics: readonly string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly options: DemandBoardOptions;

  constructor(options: DemandBoardOptions) {
    this.options = options;
  }

  /** Publishes this host's union (replacing the last one) and keeps it alive until `stop`. */
  async set(topics: Iterable<string>): Promise<void> {
    this.topics = [...new Set(topics)].sort();
    await this.write();
    if (!this.timer) {
      this.timer = setInterval(() => void this.write().catch(() => undefined), this.options.ttlMs / 3);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.options.kv.delete(this.key()).catch(() => undefined);
  }

  private key(): string {
    return `${this.options.session}.${this.options.daemon}`;
  }

  private async write(): Promise<void> {
    await this.options.kv.put(this.key(), encoder.encode(JSON.stringify(this.topics)));
  }
}

export interface UnionChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** The holder's view: the union over every live host's demand record for one session. */
export class ClusterUnion {
  /** Each daemon's topics as last seen, with when its record was last written (the local receipt time). */
  private readonly hosts = new Map<string, { topics: ReadonlySet<string>; seenAt: number }>();
  private readonly counts = new Map<string, number>();
  private watcher: { stop(): void } | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly options: Omit<DemandBoardOptions, 'daemon'>;
  private readonly onChange: (change: UnionChange) => void;

  constructor(options: Omit<DemandBoardOptions, 'daemon'>, onChange: (change: UnionChange) => void) {
    this.options = options;
    this.onChange = onChange;
  }

  topics(): ReadonlySet<string> {
    return new Set(this.counts.keys());
  }

  async start(): Promise<void> {
    const iterator = await this.options.kv.watch({ key: `${this.options.session}.*` });
    this.watcher = iterator;
    void (async () => {
      for await (const entry of iterator) this.observe(entry);
    })().catch(() => undefined);
    // The server's max_age expiry sends no event: drop a host whose record went a TTL (and a grace) unrewritten.
    // One timer per session while holding it, at the TTL's pace: a holder renews its lease at that pace anyway.
    this.sweeper = setInterval(() => this.sweep(), this.options.ttlMs / 2);
    this.sweeper.unref();
  }

  stop(): void {
    this.watcher?.stop();
    clearInterval(this.sweeper);
  }

  private observe(entry: KvEntry): void {
    const daemon = entry.key.slice(this.options.session.length + 1);
    const topics = entry.operation === 'PUT' ? parseTopics(entry.value) : new Set<string>();
    this.replace(daemon, topics);
    if (entry.operation === 'PUT') this.hosts.set(daemon, { topics, seenAt: Date.now() });
    else this.hosts.delete(daemon);
  }

  private sweep(): void {
    const stale = Date.now() - this.options.ttlMs * 1.1;
    for (const [daemon, host] of this.hosts) {
      if (host.seenAt >= stale) continue;
      this.replace(daemon, new Set());
      this.hosts.delete(daemon);
    }
  }

  private replace(daemon: string, next: ReadonlySet<string>): void {
    const previous = this.hosts.get(daemon)?.topics ?? new Set<string>();
    const added: string[] = [];
    const removed: string[] = [];
    for (const topic of next) {
      if (previous.has(topic)) continue;
      const count = this.counts.get(topic) ?? 0;
      this.counts.set(topic, count + 1);
      if (count === 0) added.push(topic);
    }
    for (const topic of previous) {
      if (next.has(topic)) continue;
      const count = (this.counts.get(topic) ?? 1) - 1;
      if (count === 0) {
        this.counts.delete(topic);
        removed.push(topic);
      } else this.counts.set(topic, count);
    }
    if (added.length > 0 || removed.length > 0) this.onChange({ added, removed });
  }
}

function parseTopics(value: Uint8Array): ReadonlySet<string> {
  try {
    const parsed = JSON.parse(decoder.decode(value)) as unknown;
    return new Set(Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : []);
  } catch {
    return new Set();
  }
}
