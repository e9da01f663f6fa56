import type { KV, KvEntry } from '@nats-io/kv';

/**
 * Who holds one upstream session in the cluster: a key in a JetStream KV bucket whose `max_age` is the lease TTL.
 *
 * - Take: `create` (no live record) or, once the record has gone unrenewed for a TTL, a compare-and-swap
 *   `update` on the revision last seen — so of several contenders exactly one wins, and a holder that renews in
 *   time is never displaced.
 * - Keep: the holder re-writes its record (CAS on its own revision) every TTL/3.
 * - Safety: the holder steps down by its OWN clock at (send time of its last acknowledged renewal + TTL - margin),
 *   while a follower takes over only at (time it SAW that renewal + TTL + grace). The renewal is seen after it was
 *   sent, so the old holder has let go of its upstream before anyone else may open one: the vendor never sees two
 *   sessions from the cluster (up to clock-rate drift, which the margin covers).
 * - Idle: a follower holds one timer per lease, re-armed by the KV watch whenever the holder renews; it does not
 *   poll the bucket. Only a failed takeover attempt (the record exists but has not expired yet on the server's
 *   side) is retried, a bounded number of times.
 */
export type LeaseState = 'starting' | 'holding' | 'following' | 'stopped';

export interface LeaseRecord {
  /** The holder's daemon id (random per daemon start; never a secret). */
  readonly holder: string;
  /** The holder's host name, for `wsproxy status` and logs. */
  readonly host: string;
  /** When this holder took the lease (ms since epoch, the holder's clock). */
  readonly since: number;
}

export interface SessionLeaseOptions {
  readonly kv: KV;
  /** The session's key (see sessionKey). */
  readonly key: string;
  readonly holder: string;
  readonly host: string;
  /** The bucket's TTL in ms: every contender must use the bucket's value. */
  readonly ttlMs: number;
  /** Called when this daemon starts holding the session: open the upstream. */
  onAcquired(): void;
  /** Called when this daemon must stop holding it (renewal failed or someone else holds it): close the upstream. */
  onLost(reason: 'expired' | 'taken' | 'stopped'): void;
  /** Called whenever the holder changes as this daemon sees it (`null`: no live holder known). */
  onHolder?(record: LeaseRecord | null): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The holder lets go this long before its lease could expire on anyone's clock. */
const SAFETY_MARGIN_FRACTION = 0.2;
/** A follower waits this long past the TTL before taking over (covers the server's own expiry lag). */
const TAKEOVER_GRACE_FRACTION = 0.1;
/** Quick re-tries of a lost takeover whose record had not expired on the server yet (each TTL/10 apart). */
const TAKEOVER_ATTEMPTS = 20;

export class SessionLease {
  state: LeaseState = 'starting';
  /** The record of the current holder as last seen (ours while holding). */
  current: LeaseRecord | null = null;

  private revision = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private stepDownTimer: NodeJS.Timeout | undefined;
  private takeoverTimer: NodeJS.Timeout | undefined;
  private watcher: { stop(): void } | undefined;
  private readonly options: SessionLeaseOptions;
  private readonly record: LeaseRecord;
  private attempting = false;
  private createPending = false;
  private swapRetries = 0;

  constructor(options: SessionLeaseOptions) {
    this.options = options;
    this.record = { holder: options.holder, host: options.host, since: 0 };
  }

  async start(): Promise<void> {
    await this.watch();
    await this.tryTake('create');
  }

  /** Gives the lease up at once (a clean shutdown): followers see the delete and take over without waiting. */
  async stop(): Promise<void> {
    const wasHolding = this.state === 'holding';
    const revision = this.revision;
    this.state = 'stopped';
    this.clearTimers();
    this.watcher?.stop();
    if (wasHolding) {
      this.options.onLost('stopped');
      await this.options.kv.delete(this.options.key, { previousSeq: revision }).catch(() => undefined);
    }
  }

  private async watch(): Promise<void> {
    const iterator = await this.options.kv.watch({ key: this.options.key });
    this.watcher = iterator;
    void (async () => {
      for await (const entry of iterator) this.observe(entry);
    })().catch(() => undefined);
  }

  private observe(entry: KvEntry): void {
    if (this.state === 'stopped') return;
    if (entry.operation !== 'PUT') {
      this.revision = entry.revision;
      this.current = null;
      this.options.onHolder?.(null);
      if (this.state !== 'holding') void this.tryTake('create');
      return;
    }
    const record = decodeRecord(entry.value);
    if (this.state === 'holding') {
      if (record?.holder === this.record.holder) return;
      // Someone else wrote the key: our lease is gone whatever our clock says.
      this.loseTo('taken');
    }
    this.revision = entry.revision;
    this.current = record;
    this.swapRetries = 0;
    this.options.onHolder?.(record);
    if (this.state !== 'holding') this.armTakeover();
  }

  /** Takes over when the record seen last has gone `delay` without a renewal (the watch re-arms on each one). */
  private armTakeover(delay = this.options.ttlMs * (1 + TAKEOVER_GRACE_FRACTION)): void {
    clearTimeout(this.takeoverTimer);
    this.takeoverTimer = setTimeout(() => void this.tryTake('swap'), delay);
    this.takeoverTimer.unref();
  }

  /**
   * `create` takes only a free key (no record, or a delete marker): safe at any time. `swap` replaces the record
   * seen last, and is only ever tried by the takeover timer, i.e. once that record has gone a TTL unrenewed.
   */
  private async tryTake(mode: 'create' | 'swap'): Promise<void> {
    if (this.state === 'stopped' || this.state === 'holding') return;
    if (this.attempting) {
      // A delete seen mid-attempt: try a create again right after this attempt, never a swap.
      this.createPending = true;
      return;
    }
    this.attempting = true;
    try {
      const seen = this.revision;
      const record = { ...this.record, since: Date.now() };
      const value = encoder.encode(JSON.stringify(record));
      const { kv, key } = this.options;
      const sentAt = Date.now();
      let revision: number | null = null;
      if (mode === 'swap' && seen > 0) revision = await attempt(() => kv.update(key, value, seen));
      // A swap fails when the record expired on the server meanwhile: then the key is free for a create.
      revision ??= await attempt(() => kv.create(key, value));
      // `stop()` may have run during the awaits.
      if (revision !== null && this.stopped()) {
        await kv.delete(key, { previousSeq: revision }).catch(() => undefined);
        return;
      }
      if (revision !== null) {
        this.swapRetries = 0;
        this.hold(record, revision, sentAt);
        return;
      }
      if (this.stopped()) return;
      this.state = 'following';
      // A lost swap with the revision unchanged: the record we saw is past its TTL by our clock but not yet expired
      // by the server's (or NATS was unreachable). Look again shortly, a bounded number of times; a renewal seen
      // meanwhile re-arms the full timer instead.
      if (mode === 'swap' && this.revision === seen && this.swapRetries < TAKEOVER_ATTEMPTS) {
        this.swapRetries++;
        this.armTakeover(this.options.ttlMs / 10);
      }
    } finally {
      this.attempting = false;
      if (this.createPending) {
        this.createPending = false;
        void this.tryTake('create');
      }
    }
  }

  private hold(record: LeaseRecord, revision: number, sentAt: number): void {
    clearTimeout(this.takeoverTimer);
    this.state = 'holding';
    this.revision = revision;
    this.current = record;
    this.armStepDown(sentAt);
    this.renewTimer = setInterval(() => void this.renew(), this.options.ttlMs / 3);
    this.options.onHolder?.(record);
    this.options.onAcquired();
  }

  private armStepDown(sentAt: number): void {
    clearTimeout(this.stepDownTimer);
    const deadline = sentAt + this.options.ttlMs * (1 - SAFETY_MARGIN_FRACTION);
    this.stepDownTimer = setTimeout(() => this.loseTo('expired'), Math.max(0, deadline - Date.now()));
  }

  private async renew(): Promise<void> {
    if (this.state !== 'holding' || !this.current) return;
    const sentAt = Date.now();
    const value = encoder.encode(JSON.stringify(this.current));
    try {
      const revision = await this.options.kv.update(this.options.key, value, this.revision);
      if (this.state !== 'holding') return;
      this.revision = revision;
      this.armStepDown(sentAt);
    } catch (error) {
      // A timeout (NATS unreachable) leaves the step-down timer to decide; a wrong revision means it was taken.
      if (isWrongLastSequence(error)) this.loseTo('taken');
    }
  }

  private loseTo(reason: 'expired' | 'taken'): void {
    if (this.state !== 'holding') return;
    this.clearTimers();
    this.state = 'following';
    this.current = null;
    this.options.onLost(reason);
    this.options.onHolder?.(null);
    this.armTakeover();
  }

  private stopped(): boolean {
    return this.state === 'stopped';
  }

  private clearTimers(): void {
    clearInterval(this.renewTimer);
    clearTimeout(this.stepDownTimer);
    clearTimeout(this.takeoverTimer);
  }
}

/** One CAS write: its new revision, or null when another writer got there first (or NATS did not answer). */
async function attempt(write: () => Promise<number>): Promise<number | null> {
  try {
    return await write();
  } catch {
    return null;
  }
}

function decodeRecord(value: Uint8Array): LeaseRecord | null {
  try {
    const parsed = JSON.parse(decoder.decode(value)) as Partial<LeaseRecord>;
    if (typeof parsed.holder !== 'string') return null;
    return { holder: parsed.holder, host: String(parsed.host ?? ''), since: Number(parsed.since ?? 0) };
  } catch {
    return null;
  }
}

function isWrongLastSequence(error: unknown): boolean {
  // JetStreamApiError's `code` is the JetStream error code: 10071 / 10164 are "wrong last sequence".
  const code = (error as { code?: unknown }).code;
  return code === 10071 || code === 10164 || /wrong last sequence/i.test(String((error as Error)?.message));
}
