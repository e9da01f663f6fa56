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
/** Attempts per takeover before giving up until the next watch event or TTL. */
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

  constructor(options: SessionLeaseOptions) {
    this.options = options;
    this.record = { holder: options.holder, host: options.host, since: 0 };
  }

  async start(): Promise<void> {
    await this.watch();
    await this.tryTake();
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
      if (this.state !== 'holding') void this.tryTake();
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
    this.options.onHolder?.(record);
    if (this.state !== 'holding') this.armTakeover();
  }

  private armTakeover(): void {
    clearTimeout(this.takeoverTimer);
    const wait = this.options.ttlMs * (1 + TAKEOVER_GRACE_FRACTION);
    this.takeoverTimer = setTimeout(() => void this.tryTake(), wait);
    this.takeoverTimer.unref();
  }

  private async tryTake(): Promise<void> {
    if (this.attempting || this.state === 'stopped' || this.state === 'holding') return;
    this.attempting = true;
    try {
      // `stop()` may run during any await below.
      for (let attempt = 0; attempt < TAKEOVER_ATTEMPTS && !this.stopped(); attempt++) {
        const seen = this.revision;
        const record = { ...this.record, since: Date.now() };
        const sentAt = Date.now();
        const revision = await this.write(record, seen);
        if (revision !== null) {
          if (this.stopped()) {
            await this.options.kv.delete(this.options.key, { previousSeq: revision }).catch(() => undefined);
            return;
          }
          this.hold(record, revision, sentAt);
          return;
        }
        // Someone renewed or took it meanwhile (the watch re-armed our timer): stand by.
        if (this.revision !== seen) {
          if (!this.stopped()) this.state = 'following';
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.options.ttlMs / 10));
      }
      if (this.stopped()) return;
      this.state = 'following';
      this.armTakeover();
    } finally {
      this.attempting = false;
    }
  }

  /** One CAS write: on the revision we saw if any, else a create. Null when another writer got there first. */
  private async write(record: LeaseRecord, seen: number): Promise<number | null> {
    const { kv, key } = this.options;
    const value = encoder.encode(JSON.stringify(record));
    try {
      return seen > 0 ? await kv.update(key, value, seen) : await kv.create(key, value);
    } catch {
      if (seen === 0) return null;
      // The record we saw may have expired on the server meanwhile: then there is nothing to swap and a create wins.
      try {
        return await kv.create(key, value);
      } catch {
        return null;
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
