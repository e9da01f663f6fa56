import { availableParallelism } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  ClosedError,
  CorruptHeaderError,
  CorruptRecordError,
  InvalidArgumentError,
  NoFreeSlotError,
  ReaderEvictedError,
  WriterGoneError,
} from './errors.js';
import { openRingSegment } from './header.js';
import {
  H_INTENT,
  H_SEQUENCE,
  H_SLEEPERS,
  H_TAIL,
  H_WRITER_STATE,
  loadPosition,
  PADDING_MARKER,
  RECORD_HEADER_BYTES,
  recordBytes,
  S_GENERATION,
  S_LAPS,
  S_LOST_HI,
  S_LOST_LO,
  S_PID,
  S_POSITION,
  S_SLEEPING,
  S_SPIN_WANTED,
  S_STATE,
  SLOT_ACTIVE,
  slotWord,
  storePosition,
  TWO_32,
  WRITER_CLOSED,
} from './layout.js';
import { isProcessAlive } from './process.js';
import type { Segment } from './segment.js';
import { claimExactSlot, claimSlot, freeSlot } from './slots.js';

/** How a reader waits when the ring is empty. */
export type IdleStrategy = 'block' | 'spin' | 'backoff';

/** Zero-copy record callback: the payload is `buffer[offset, offset + length)`, valid only during the call. */
export type RecordHandler = (buffer: Uint8Array, offset: number, length: number, sequence: number) => void;

/**
 * Reported when the reader was lapped: it skipped `lost` records, overwritten (or about to be: the writer announces
 * its overwrites a little ahead) before it could read them.
 */
export interface GapInfo {
  readonly lost: number;
  /** Sequence number of the first record read after the gap. */
  readonly resumedAt: number;
}

/**
 * Why a `spin` or `backoff` reader is blocking instead: `oversubscribed` — more readers of this ring want to spin
 * than `maxSpinningReaders` allows, and this one is not among the first (by slot); `preempted` — while spinning it
 * was descheduled again and again (the machine is busier than it has cores), so it blocks for a while.
 */
export type IdleDegradeReason = 'oversubscribed' | 'preempted';

/** Reported when the strategy a reader actually waits with changes (see `RingReaderOptions.onIdleChange`). */
export interface IdleChange {
  /** What the reader was opened with. */
  readonly requested: IdleStrategy;
  /** What it waits with from now on: the requested strategy, or `block` while degraded. */
  readonly effective: IdleStrategy;
  /** Set while degraded. */
  readonly reason: IdleDegradeReason | undefined;
  /** Readers of this ring (live, this one included) that want to spin, when this was decided. */
  readonly spinningReaders: number;
}

export interface RingReaderOptions {
  /** Name of an existing ring. */
  name: string;
  /** `block` (default): wait for a doorbell, ~0% CPU; `spin`: poll every event-loop turn; `backoff`: spin, then block. */
  idle?: IdleStrategy;
  /** `backoff` only: how long to spin before blocking, in microseconds (default 200). */
  spinMicros?: number;
  /**
   * `spin`/`backoff`: at most this many readers of the ring spin; the others (the ones with the higher slots) block
   * until one of those leaves. Default: the cores minus one (`os.availableParallelism() - 1`, at least 1) — the
   * writer needs a core too, and a spinner that shares its core with another only delays both.
   */
  maxSpinningReaders?: number;
  /**
   * `spin` only: a wait that finds no record for this long stops spinning and blocks until the next doorbell
   * (default 250 ms; `Infinity` never). Spinning through a quiet market burns a core for nothing; the first record
   * after the pause is delivered with `block` latency, the ones after it with `spin` latency again.
   */
  spinIdleMs?: number;
  /** Called when the reader degrades to `block` or goes back to its requested strategy (see `IdleChange`). */
  onIdleChange?: (change: IdleChange) => void;
  /** Called once per gap, before the first record after it is handed out. */
  onGap?: (gap: GapInfo) => void;
  /**
   * Claim exactly this slot (free, or held by a dead process) instead of the first free one: for writers that
   * assign slots themselves and route records and doorbells by them. Throws `SHMQ_ERR_NO_FREE_SLOT` if it is held.
   */
  slot?: number;
}

const DEFAULT_SPIN_MICROS = 200;
const DEFAULT_SPIN_IDLE_MS = 250;
/** How often a spinning reader re-counts the spinners and its preemptions (ms). */
const IDLE_REVIEW_MS = 100;
/** A gap this long between two clock reads inside one spin slice means the reader was descheduled (ms). */
const PREEMPTED_GAP_MS = 1;
/** This many preemptions within one review period make the reader block for PREEMPTED_HOLD_MS. */
const PREEMPTIONS_TO_DEGRADE = 3;
const PREEMPTED_HOLD_MS = 1000;
/**
 * A spinning reader re-checks the ring in a tight loop for this long before it lets the event loop turn. Yielding
 * on every check instead (one promise and one immediate per look) made ~500 MB/s of garbage: a scavenge every
 * 2 ms, each pausing the reader for up to several ms, which is what the spin strategy's tail latency was made of.
 */
const SPIN_SLICE_MS = 0.1;
/** Read the clock once per this many ring checks: a check is two loads, the clock a vDSO call. */
const SPIN_CHECKS_PER_CLOCK = 64;

/**
 * One reader of a broadcast ring. Holds a reader slot (released on `close()`, reclaimed by others if this
 * process dies) and publishes its position so the writer knows how far it lags.
 *
 * Wake-ups are pluggable: when the ring is empty and the strategy blocks, the reader raises its `sleeping` flag
 * and waits until `notify()` is called — by `connectDoorbell()`, or by your own transport when the writer's
 * `onWake(slot)` fires for this reader's `slot`.
 */
export class RingReader implements AsyncIterable<Buffer> {
  readonly name: string;
  readonly slot: number;
  readonly capacity: number;
  readonly maxRecordSize: number;
  readonly backPressure: boolean;
  readonly idle: IdleStrategy;
  onGap: ((gap: GapInfo) => void) | undefined;
  onIdleChange: ((change: IdleChange) => void) | undefined;

  readonly #segment: Segment;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #dataOffset: number;
  readonly #dataWord: number;
  readonly #spinMicros: number;
  readonly #spinIdleMs: number;
  readonly #maxReaders: number;
  readonly #maxSpinning: number;
  /** What the reader waits with now: `idle`, or `block` while degraded. */
  #effective: IdleStrategy;
  #degraded: IdleDegradeReason | undefined;
  #nextReview = 0;
  #preemptions = 0;
  #preemptedUntil = 0;
  readonly #positionWord: number;
  readonly #sleepingWord: number;
  readonly #pidWord: number;
  readonly #generationWord: number;
  /**
   * The slot's release count when we claimed it. The pid alone cannot tell our claim from a later one by another
   * reader of this same process, after the writer released ours.
   */
  readonly #generation: number;
  #evicted = false;

  /** Consumed up to here (local; published to the slot by #publish). */
  #position = 0;
  #offset = 0;
  #published = -1;
  #tail = 0;
  /** Sequence number of the next record at #position. */
  #expected = 0;
  // The record #next() found (absolute byte offset of the payload in the segment).
  #recordOffset = 0;
  #recordLength = 0;
  #recordSequence = 0;
  #recordSize = 0;
  #recordPosition = 0;

  #laps = 0;
  #lostRecords = 0;
  #waiter: (() => void) | undefined;
  #gone: WriterGoneError | undefined;
  #closed = false;

  private constructor(
    segment: Segment,
    geometry: ReturnType<typeof openRingSegment>['geometry'],
    slot: number,
    options: RingReaderOptions,
  ) {
    this.name = segment.name;
    this.slot = slot;
    this.capacity = geometry.capacity;
    this.#maxReaders = geometry.maxReaders;
    this.maxRecordSize = geometry.maxRecordSize;
    this.backPressure = geometry.backPressure;
    this.idle = options.idle ?? 'block';
    this.onGap = options.onGap;
    this.onIdleChange = options.onIdleChange;
    this.#effective = this.idle;
    this.#spinIdleMs = options.spinIdleMs ?? DEFAULT_SPIN_IDLE_MS;
    this.#maxSpinning = options.maxSpinningReaders ?? Math.max(1, availableParallelism() - 1);
    this.#segment = segment;
    this.#words = new Int32Array(segment.buffer);
    this.#bytes = new Uint8Array(segment.buffer);
    this.#dataOffset = geometry.dataOffset;
    this.#dataWord = geometry.dataOffset >> 2;
    this.#spinMicros = options.spinMicros ?? DEFAULT_SPIN_MICROS;
    this.#positionWord = slotWord(slot, S_POSITION);
    this.#sleepingWord = slotWord(slot, S_SLEEPING);
    this.#pidWord = slotWord(slot, S_PID);
    this.#generationWord = slotWord(slot, S_GENERATION);
    this.#generation = Atomics.load(this.#words, this.#generationWord);
    this.#joinAtTail();
  }

  /**
   * Opens a ring and claims a reader slot (a free one, else one whose owner process is dead). Reading starts
   * at the writer's current position. Throws `SHMQ_ERR_NO_FREE_SLOT` when every slot has a live owner.
   */
  static open(options: RingReaderOptions): RingReader {
    const idle = options.idle ?? 'block';
    if (idle !== 'block' && idle !== 'spin' && idle !== 'backoff') {
      throw new InvalidArgumentError(`idle must be 'block', 'spin' or 'backoff', got ${String(idle)}`);
    }
    const spin = options.spinMicros ?? DEFAULT_SPIN_MICROS;
    if (!Number.isFinite(spin) || spin < 0)
      throw new InvalidArgumentError(`spinMicros must be >= 0, got ${spin}`);
    const spinIdle = options.spinIdleMs ?? DEFAULT_SPIN_IDLE_MS;
    if (Number.isNaN(spinIdle) || spinIdle < 0)
      throw new InvalidArgumentError(`spinIdleMs must be >= 0, got ${spinIdle}`);
    const maxSpinning = options.maxSpinningReaders;
    if (maxSpinning !== undefined && (!Number.isInteger(maxSpinning) || maxSpinning < 0)) {
      throw new InvalidArgumentError(`maxSpinningReaders must be an integer >= 0, got ${maxSpinning}`);
    }
    const { segment, geometry } = openRingSegment(options.name);
    const words = new Int32Array(segment.buffer);
    let slot: number;
    try {
      slot =
        options.slot === undefined
          ? claimSlot(words, geometry.maxReaders)
          : claimExactSlot(words, options.slot, geometry.maxReaders);
    } catch (error) {
      segment.close();
      throw error;
    }
    if (slot < 0) {
      segment.close();
      throw new NoFreeSlotError(options.name, geometry.maxReaders, options.slot);
    }
    try {
      return new RingReader(segment, geometry, slot, options);
    } catch (error) {
      // Joining found a damaged header: give the slot back rather than hold it for a reader that never was.
      freeSlot(words, slot, process.pid);
      segment.close();
      throw error;
    }
  }

  /** Byte position up to which this reader has consumed. */
  get position(): number {
    return this.#position;
  }
  /** How many times the writer lapped this reader. */
  get laps(): number {
    return this.#laps;
  }
  /** Records lost to overruns, in total. */
  get lostRecords(): number {
    return this.#lostRecords;
  }
  /** Sequence number of the last record handed out (one less than the next expected). */
  get lastSequence(): number {
    return this.#expected - 1;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** The writer closed the ring cleanly (records already written can still be read). */
  get writerClosed(): boolean {
    return this.#closed || Atomics.load(this.#words, H_WRITER_STATE) === WRITER_CLOSED;
  }

  /** The strategy the reader waits with now: `idle`, or `block` while degraded (see `idleDegraded`). */
  get effectiveIdle(): IdleStrategy {
    return this.#effective;
  }
  /** Why a `spin`/`backoff` reader blocks instead, or undefined when it waits as requested. */
  get idleDegraded(): IdleDegradeReason | undefined {
    return this.#degraded;
  }

  /** A doorbell arrived for this reader: wake it if it is blocked. Safe to call at any time. */
  notify(): void {
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter();
    }
  }

  /**
   * The doorbell transport lost the writer (its socket closed). Pending and future waits reject with
   * `SHMQ_ERR_WRITER_GONE` once the records already in the ring are drained — unless the writer closed cleanly.
   */
  writerGone(detail?: string): void {
    if (this.#gone === undefined) this.#gone = new WriterGoneError(this.name, detail);
    this.notify();
  }

  /**
   * Zero-copy batch read: calls `handler` for up to `limit` available records and returns how many. No
   * allocation per record. In overwrite mode a record can be overwritten while the handler runs if the writer
   * laps this reader meanwhile; call `verify()` inside the handler after using the bytes if that matters.
   */
  poll(handler: RecordHandler, limit = Number.POSITIVE_INFINITY): number {
    this.#assertOpen();
    let count = 0;
    try {
      while (count < limit && !this.#closed && this.#next()) {
        this.#advance();
        count++;
        handler(this.#bytes, this.#recordOffset, this.#recordLength, this.#recordSequence);
      }
    } finally {
      this.#publish();
    }
    return count;
  }

  /** Zero-copy read of one record: a view valid until the next read call on this reader, or `null` if empty. */
  tryReadView(): Uint8Array | null {
    this.#assertOpen();
    this.#publish();
    if (!this.#next()) return null;
    this.#advance();
    return this.#bytes.subarray(this.#recordOffset, this.#recordOffset + this.#recordLength);
  }

  /** Copying read of one record, or `null` if the ring is empty. A lapped copy is discarded and counted as lost. */
  tryRead(): Buffer | null {
    this.#assertOpen();
    for (;;) {
      if (!this.#next()) {
        this.#publish();
        return null;
      }
      const copy = Buffer.allocUnsafe(this.#recordLength);
      copy.set(this.#bytes.subarray(this.#recordOffset, this.#recordOffset + this.#recordLength));
      if (this.#intact(this.#recordPosition)) {
        this.#advance();
        this.#publish();
        return copy;
      }
      this.#skipLapped();
    }
  }

  /**
   * True if the record last handed out has not been overwritten since (always true in back-pressure mode). False
   * means drop it: the reader steps back onto it, so the next read reports it in its gap instead of losing it
   * without a word.
   */
  verify(): boolean {
    if (this.#closed) return false;
    if (this.#intact(this.#recordPosition)) return true;
    if (this.#expected === this.#recordSequence + 1) {
      this.#position = this.#recordPosition;
      this.#offset = this.#recordPosition % this.capacity;
      this.#expected = this.#recordSequence;
    }
    return false;
  }

  /** True if a record is waiting. */
  hasData(): boolean {
    if (this.#closed) return false;
    if (this.#position !== this.#tail) return true;
    this.#tail = loadPosition(this.#words, H_TAIL, this.name);
    return this.#position !== this.#tail;
  }

  /**
   * Waits, with the idle strategy, until a record is available (`true`), or the writer closed the ring and every
   * record is read, or this reader was closed meanwhile (`false`). Rejects with `SHMQ_ERR_WRITER_GONE` if the writer vanished without closing.
   */
  async ready(): Promise<boolean> {
    this.#assertOpen();
    if (this.hasData()) return true;
    this.#publish();
    const started = this.idle === 'block' ? 0 : performance.now();
    if (this.idle !== 'block' && started >= this.#nextReview) this.#reviewIdle(started);
    const spinUntil =
      this.#effective === 'backoff'
        ? started + this.#spinMicros / 1000
        : this.#effective === 'spin'
          ? started + this.#spinIdleMs
          : 0;
    for (;;) {
      // Closed while waiting: the mapping is gone, so report "no more data" rather than touch it.
      if (this.#closed) return false;
      if (this.hasData()) return true;
      // The writer may have published its last records and closed between the two checks: look once more, or
      // those records would be dropped without a word.
      if (this.writerClosed) return this.hasData();
      if (this.#gone !== undefined) throw this.#gone;
      // `spin` spins until `spinIdleMs` passes without a record, `backoff` for `spinMicros`; then (or when
      // degraded) both block until the doorbell.
      if (this.#effective !== 'block' && performance.now() < spinUntil) {
        if (this.#spinSlice(spinUntil)) return true;
        await nextTurn();
      } else {
        await this.#sleep();
      }
    }
  }

  /**
   * Decides whether this spin/backoff reader may spin: not if lower slots already hold `maxSpinningReaders`
   * live spinners (then it would only take a core from them or from the writer), nor for a while after it was
   * descheduled repeatedly while spinning (the machine has fewer free cores than it looks). Goes back to the
   * requested strategy as soon as neither holds. Reported through `onIdleChange`.
   */
  #reviewIdle(now: number): void {
    this.#nextReview = now + IDLE_REVIEW_MS;
    if (this.#preemptions >= PREEMPTIONS_TO_DEGRADE) this.#preemptedUntil = now + PREEMPTED_HOLD_MS;
    this.#preemptions = 0;
    let ahead = 0;
    let spinning = 0;
    const words = this.#words;
    for (let slot = 0; slot < this.#maxReaders; slot++) {
      if (Atomics.load(words, slotWord(slot, S_SPIN_WANTED)) !== 1) continue;
      if (Atomics.load(words, slotWord(slot, S_STATE)) !== SLOT_ACTIVE) continue;
      const pid = Atomics.load(words, slotWord(slot, S_PID));
      if (slot !== this.slot && !(pid === process.pid || isProcessAlive(pid))) continue;
      spinning++;
      if (slot < this.slot) ahead++;
    }
    const reason: IdleDegradeReason | undefined =
      ahead >= this.#maxSpinning ? 'oversubscribed' : now < this.#preemptedUntil ? 'preempted' : undefined;
    if (reason === this.#degraded) return;
    this.#degraded = reason;
    this.#effective = reason ? 'block' : this.idle;
    this.onIdleChange?.({
      requested: this.idle,
      effective: this.#effective,
      reason,
      spinningReaders: spinning,
    });
  }

  /**
   * Busy-checks the ring for one slice (or until `until`, a `performance.now()` time) without leaving this
   * event-loop turn: no allocation, no system call. True as soon as a record is waiting.
   */
  #spinSlice(until: number): boolean {
    let last = performance.now();
    const sliceEnd = Math.min(last + SPIN_SLICE_MS, until);
    for (let checks = 1; ; checks++) {
      if (this.hasData()) return true;
      if (checks % SPIN_CHECKS_PER_CLOCK === 0) {
        const now = performance.now();
        // 64 checks take well under a microsecond: a gap this long is the kernel running someone else on our core.
        if (now - last > PREEMPTED_GAP_MS) this.#preemptions++;
        if (now >= sliceEnd) return false;
        last = now;
      }
    }
  }

  /** Next record as a copy, or `undefined` once the writer closed and the ring is drained. */
  async read(): Promise<Buffer | undefined> {
    for (;;) {
      const record = this.tryRead();
      if (record !== null) return record;
      if (!(await this.ready())) return undefined;
    }
  }

  /** `for await (const record of reader)`: copies, ending when the writer closes the ring. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const record = this.tryRead();
      if (record !== null) {
        yield record;
        continue;
      }
      if (!(await this.ready())) return;
    }
  }

  /** Releases the slot and unmaps the segment; stale views read as empty afterwards. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsSlot()) freeSlot(this.#words, this.slot, process.pid);
    this.#segment.close();
    this.notify();
  }

  // LiteBlocking: announce the sleep, re-check, then wait for the doorbell the writer owes us.
  async #sleep(): Promise<void> {
    const words = this.#words;
    Atomics.store(words, this.#sleepingWord, 1);
    Atomics.add(words, H_SLEEPERS, 1);
    if (!this.hasData() && !this.writerClosed && this.#gone === undefined) {
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
      });
    }
    if (this.#closed) return;
    // If the writer flipped the flag it also decremented the count; otherwise we take our announcement back.
    if (Atomics.compareExchange(words, this.#sleepingWord, 1, 0) === 1) Atomics.sub(words, H_SLEEPERS, 1);
  }

  /** Finds the next intact record from #position, skipping padding and laps. */
  #next(): boolean {
    // Once evicted, always evicted: the bytes past our last position are no longer kept for us.
    if (this.#evicted) throw new ReaderEvictedError(this.name, this.slot);
    const words = this.#words;
    const capacity = this.capacity;
    for (;;) {
      const position = this.#position;
      if (position === this.#tail) {
        const tail = loadPosition(words, H_TAIL, this.name);
        if (tail === position) return false;
        // A reader only ever reads up to the tail: a tail behind it is a damaged header, not data.
        if (tail < position)
          throw new CorruptHeaderError(this.name, `tail ${tail} is behind position ${position}`);
        this.#tail = tail;
        this.#assertSlotOwned();
      }
      if (this.#tail - position > capacity) {
        this.#skipLapped();
        continue;
      }
      const offset = this.#offset;
      const at = this.#dataWord + (offset >> 2);
      const length = words[at]!;
      const sequenceLow = words[at + 1]!;
      if (!this.#intact(position)) {
        this.#skipLapped();
        continue;
      }
      if (length === PADDING_MARKER) {
        this.#position = position + capacity - offset;
        this.#offset = 0;
        continue;
      }
      const size = recordBytes(length);
      if (
        length < 0 ||
        length > this.maxRecordSize ||
        offset + size > capacity ||
        position + size > this.#tail
      ) {
        throw new CorruptRecordError(this.name, position, `record length ${length} out of range`);
      }
      // Records carry the low 32 bits of their sequence; a lap loses far fewer than 2^31 records, so the
      // distance from the expected sequence is exact modulo 2^32.
      const skipped = (sequenceLow - this.#expected) >>> 0;
      if (skipped !== 0) {
        // Laps are caught by the intent check above, so a sequence jump here means the ring is damaged.
        throw new CorruptRecordError(
          this.name,
          position,
          `sequence ${this.#expected + skipped}, expected ${this.#expected}`,
        );
      }
      this.#recordPosition = position;
      this.#recordOffset = this.#dataOffset + offset + RECORD_HEADER_BYTES;
      this.#recordLength = length;
      this.#recordSequence = this.#expected;
      this.#recordSize = size;
      return true;
    }
  }

  #advance(): void {
    this.#position = this.#recordPosition + this.#recordSize;
    const offset = this.#offset + this.#recordSize;
    this.#offset = offset === this.capacity ? 0 : offset;
    this.#expected = this.#recordSequence + 1;
  }

  #publish(): void {
    if (this.#published === this.#position || this.#closed || this.#evicted) return;
    storePosition(this.#words, this.#positionWord, this.#position);
    this.#published = this.#position;
  }

  /**
   * Bytes at `position` are still what the writer published there, i.e. not yet overwritten by a later lap.
   * A back-pressure writer never overwrites what an active reader has not read (and keeps no intent).
   */
  #intact(position: number): boolean {
    return this.backPressure || loadPosition(this.#words, H_INTENT, this.name) - position <= this.capacity;
  }

  /**
   * The retry loops above wait for a writer that is overwriting the bytes they want to move on. That writer's
   * intent is at most a cork's held-back span (a quarter of the capacity), one record plus padding (under half) and
   * its intent step (1/256) past the tail it published before, so with intent loaded first,
   * `intent - tail > capacity` is not a race but a damaged header: fail, never spin.
   */
  #assertIntentPlausible(): void {
    const intent = loadPosition(this.#words, H_INTENT, this.name);
    const tail = loadPosition(this.#words, H_TAIL, this.name);
    if (intent - tail > this.capacity) {
      throw new CorruptHeaderError(this.name, `intent ${intent} is more than the capacity past tail ${tail}`);
    }
  }

  /** Our slot was freed under us (the writer judged us gone): nothing protects our position any more. */
  #assertSlotOwned(): void {
    if (this.#ownsSlot()) return;
    this.#evicted = true;
    throw new ReaderEvictedError(this.name, this.slot);
  }

  #ownsSlot(): boolean {
    return (
      !this.#evicted &&
      Atomics.load(this.#words, this.#pidWord) === process.pid &&
      Atomics.load(this.#words, this.#generationWord) === this.#generation
    );
  }

  /**
   * Lapped: resume at the start of the writer's current lap (always a record boundary), so only what was really
   * overwritten is lost. Every record boundary, the tail included, holds the low 32 bits of the sequence of the
   * record that starts there, so the gap is known exactly at once, even if nothing more is ever written.
   */
  #skipLapped(): void {
    this.#laps++;
    const words = this.#words;
    Atomics.add(words, slotWord(this.slot, S_LAPS), 1);
    for (;;) {
      const tail = loadPosition(words, H_TAIL, this.name);
      let target = tail - (tail % this.capacity);
      if (target <= this.#position) target = tail;
      let sequenceLow = words[this.#dataWord + ((target % this.capacity) >> 2) + 1]!;
      if (!this.#intact(target)) {
        // The writer is wrapping right now (or died doing so): the tail itself is always intact.
        target = tail;
        sequenceLow = words[this.#dataWord + ((target % this.capacity) >> 2) + 1]!;
        if (!this.#intact(target)) {
          this.#assertIntentPlausible();
          continue;
        }
      }
      this.#position = target;
      this.#offset = target % this.capacity;
      this.#tail = tail;
      const skipped = (sequenceLow - this.#expected) >>> 0;
      if (skipped >= 0x80000000) {
        throw new CorruptRecordError(this.name, target, `sequence goes backwards from ${this.#expected}`);
      }
      if (skipped !== 0) {
        this.#reportGap(skipped, this.#expected + skipped);
        this.#expected += skipped;
      }
      return;
    }
  }

  #reportGap(lost: number, resumedAt: number): void {
    this.#lostRecords += lost;
    const words = this.#words;
    Atomics.store(words, slotWord(this.slot, S_LOST_LO), this.#lostRecords >>> 0);
    Atomics.store(words, slotWord(this.slot, S_LOST_HI), Math.floor(this.#lostRecords / TWO_32));
    this.onGap?.({ lost, resumedAt });
  }

  #joinAtTail(): void {
    const words = this.#words;
    Atomics.store(words, this.#sleepingWord, 0);
    // Counted by the other readers' #reviewIdle (cleared by freeSlot when the slot is released).
    Atomics.store(words, slotWord(this.slot, S_SPIN_WANTED), this.idle === 'block' ? 0 : 1);
    Atomics.store(words, slotWord(this.slot, S_LAPS), 0);
    Atomics.store(words, slotWord(this.slot, S_LOST_LO), 0);
    Atomics.store(words, slotWord(this.slot, S_LOST_HI), 0);
    storePosition(words, this.#positionWord, loadPosition(words, H_TAIL, this.name));
    Atomics.store(words, slotWord(this.slot, S_STATE), SLOT_ACTIVE);
    // Now that the writer counts us, settle on a tail whose next-sequence word was still intact when read.
    for (;;) {
      const tail = loadPosition(words, H_TAIL, this.name);
      // Positions count bytes written and are never negative; a negative one would index before the data area.
      if (tail < 0) throw new CorruptHeaderError(this.name, `tail ${tail} is negative`);
      const offset = tail % this.capacity;
      const sequenceLow = words[this.#dataWord + (offset >> 2) + 1]!;
      const recent = loadPosition(words, H_SEQUENCE, this.name);
      if (!this.#intact(tail)) {
        this.#assertIntentPlausible();
        continue;
      }
      storePosition(words, this.#positionWord, tail);
      this.#position = tail;
      this.#published = tail;
      this.#tail = tail;
      this.#offset = offset;
      this.#expected = recent + ((sequenceLow - recent) | 0);
      return;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError(`ring reader "${this.name}"`);
  }
}
