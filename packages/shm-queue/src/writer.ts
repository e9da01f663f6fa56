import { ClosedError, InvalidArgumentError, RecordTooLargeError } from './errors.js';
import { createRingSegment, type GeometryOptions, normaliseGeometry, type RingGeometry } from './header.js';
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
  S_LAPS,
  S_LOST_HI,
  S_LOST_LO,
  S_PID,
  S_POSITION,
  S_SLEEPING,
  S_STATE,
  SLOT_ACTIVE,
  slotWord,
  storePosition,
  TWO_32,
  WRITER_CLOSED,
} from './layout.js';
import { Segment } from './segment.js';
import { freeSlot, freeSlotOfDeadOwner } from './slots.js';

/** The writer also stamps the next record's sequence word, 8 bytes past the end of each record. */
const NEXT_HEADER_BYTES = 8;
/**
 * Overwrite rings publish `intent` this fraction of the capacity AHEAD of what they write, so one store covers many
 * records. Readers check `intent` on every record; a store per record moved its cache line between cores per
 * record. The cost: a reader more than `capacity - capacity / INTENT_STEP_DIVISOR` behind is treated as lapped a
 * little early (it still reports exactly how many records it skipped). The step never reaches past the end of the
 * lap being written: a lapped reader resumes at that lap's start and must find it intact (stepping over it made
 * such readers skip a whole lap of good records).
 */
const INTENT_STEP_DIVISOR = 256;
/**
 * A cork publishes by itself once this fraction of the capacity is held back, so `intent` never runs a capacity
 * ahead of the published tail (which readers would rightly take for a damaged header).
 */
const CORK_SPAN_DIVISOR = 4;
const MAX_START = 2 ** 52;
const SEQUENCE_REFRESH_MASK = 0xfffff;

/** Called with a reader's slot when the writer flipped that reader's `sleeping` flag: send it one doorbell. */
export type WakeHandler = (slot: number) => void;

export interface RingWriterOptions extends GeometryOptions {
  /** Segment name, e.g. `myapp-ticks` (no slash). Must not exist yet. */
  name: string;
  /** Doorbell transport: called once per sleeping reader the writer wakes. */
  onWake?: WakeHandler;
  /**
   * Testing and recovery aid: the byte position (and record sequence) the ring starts at. Lets tests start
   * just below 2^32 to prove positions survive the wrap.
   */
  startPosition?: number;
  startSequence?: number;
}

/** What the writer knows about one claimed reader slot. */
export interface ReaderInfo {
  readonly slot: number;
  readonly pid: number;
  readonly position: number;
  /** Bytes written that this reader has not consumed yet. */
  readonly lag: number;
  readonly sleeping: boolean;
  readonly laps: number;
  readonly lostRecords: number;
}

/**
 * The single writer of a broadcast ring. `write()` never blocks: by default it overwrites what the slowest
 * reader has not read (that reader later skips ahead and reports a gap); with `backPressure: true` it returns
 * `false` instead when the ring has no room for the record.
 */
export class RingWriter {
  readonly name: string;
  readonly capacity: number;
  readonly maxReaders: number;
  readonly maxRecordSize: number;
  readonly backPressure: boolean;
  /** Doorbell transport; may be set after creation (e.g. by `DoorbellServer`). */
  onWake: WakeHandler | undefined;

  readonly #segment: Segment;
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #dataOffset: number;
  readonly #dataWord: number;
  readonly #mask: number;
  #tail: number;
  #offset: number;
  #sequence: number;
  /** Back-pressure only: the writer may write up to here without looking at reader positions again. */
  #limit = 0;
  // Positions below these share the high word already stored, so publishing needs only the low word.
  #tailHighEnd = 0;
  #intentHighEnd = 0;
  /**
   * `cork()` depth: while above 0, records are written but the tail is published only by `uncork()`, by a write
   * that finds a quarter of the capacity held back, by a full back-pressure ring refusing a record, or by `close()`.
   */
  #corked = 0;
  /** The tail readers can see (lags #tail while corked). */
  #publishedTail: number;
  /** Overwrite rings: the intent last published; bytes below it may be written without publishing again. */
  #intent: number;
  readonly #intentStep: number;
  readonly #corkSpan: number;
  #closed = false;

  private constructor(segment: Segment, geometry: RingGeometry, options: RingWriterOptions) {
    this.name = segment.name;
    this.capacity = geometry.capacity;
    this.maxReaders = geometry.maxReaders;
    this.maxRecordSize = geometry.maxRecordSize;
    this.backPressure = geometry.backPressure;
    this.onWake = options.onWake;
    this.#segment = segment;
    this.#words = new Int32Array(segment.buffer);
    this.#bytes = new Uint8Array(segment.buffer);
    this.#dataOffset = geometry.dataOffset;
    this.#dataWord = geometry.dataOffset >> 2;
    this.#mask = geometry.capacity - 1;
    this.#tail = options.startPosition ?? 0;
    this.#offset = this.#tail % this.capacity;
    this.#sequence = options.startSequence ?? 0;
    this.#intentStep = geometry.capacity / INTENT_STEP_DIVISOR;
    this.#corkSpan = geometry.capacity / CORK_SPAN_DIVISOR;
    storePosition(this.#words, H_SEQUENCE, this.#sequence);
    this.#intent = this.#tail + NEXT_HEADER_BYTES;
    storePosition(this.#words, H_INTENT, this.#intent);
    // The next record's sequence is always readable at the tail, so a reader joining there knows its baseline.
    this.#words[this.#dataWord + (this.#offset >> 2) + 1] = this.#sequence >>> 0;
    storePosition(this.#words, H_TAIL, this.#tail);
    this.#publishedTail = this.#tail;
  }

  /** Creates a new ring segment (mode 0600). Throws `SHMQ_ERR_SEGMENT_EXISTS` if the name is taken. */
  static create(options: RingWriterOptions): RingWriter {
    const geometry = normaliseGeometry(options);
    const start = options.startPosition ?? 0;
    const startSequence = options.startSequence ?? 0;
    for (const [label, value] of [
      ['startPosition', start],
      ['startSequence', startSequence],
    ] as const) {
      // 2^52, not 2^53: positions and sequences must keep counting exactly for a long while after the start.
      if (!Number.isSafeInteger(value) || value < 0 || value > MAX_START) {
        throw new InvalidArgumentError(`${label} must be an integer from 0 to 2^52, got ${value}`);
      }
    }
    if (start % 8 !== 0)
      throw new InvalidArgumentError(`startPosition must be a multiple of 8, got ${start}`);
    const segment = createRingSegment(options.name, geometry);
    return new RingWriter(segment, geometry, options);
  }

  /**
   * Byte position just past the last record written. While corked, readers see less (up to the last publication),
   * and `readers()` counts a reader's lag from here.
   */
  get position(): number {
    return this.#tail;
  }

  /** Sequence number the next record will carry (= records written, plus `startSequence`). */
  get sequence(): number {
    return this.#sequence;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Publishes one record (a copy of `payload`). Returns `true`, or `false` only in back-pressure mode when the
   * slowest reader has not left room for it. Throws `SHMQ_ERR_RECORD_TOO_LARGE` above `maxRecordSize`.
   */
  write(payload: Uint8Array): boolean {
    if (this.#closed) throw new ClosedError(`ring writer "${this.name}"`);
    const length = payload.byteLength;
    if (length > this.maxRecordSize) throw new RecordTooLargeError(length, this.maxRecordSize);
    const size = recordBytes(length);
    let offset = this.#offset;
    // A record never straddles the end of the data area: the rest of the lap becomes a padding record.
    const padding = offset + size > this.capacity ? this.capacity - offset : 0;
    const end = this.#tail + padding + size;
    if (
      this.backPressure &&
      end + NEXT_HEADER_BYTES > this.#limit &&
      !this.#hasRoom(end + NEXT_HEADER_BYTES)
    ) {
      // Readers can only make room by reading, and they read only what is published: a full ring publishes
      // what a cork held back, or a corked writer would wait for room forever.
      // The flush also re-rings any reader whose doorbell failed before: a full ring waits for exactly those.
      this.#flush(true);
      return false;
    }

    const words = this.#words;
    const sequence = this.#sequence;
    // Bytes up to `end + 8` change now (this record and the next one's sequence word): readers behind by more than
    // the capacity see it through the intent and skip instead of reading half-overwritten bytes.
    // Back-pressure rings never overwrite unread bytes, so readers need no intent there (see LAYOUT.md).
    if (!this.backPressure && end + NEXT_HEADER_BYTES > this.#intent) {
      // Never step past the end of the lap being written: a lapped reader resumes at that lap's start, which must
      // stay intact until a record really reaches into the next lap.
      const needed = end + NEXT_HEADER_BYTES;
      const lapEnd = end - (end % this.capacity) + this.capacity;
      this.#intent = Math.max(needed, Math.min(needed + this.#intentStep, lapEnd));
      this.#publish(H_INTENT, this.#intent);
    }
    if (padding !== 0) {
      const at = this.#dataWord + (offset >> 2);
      words[at] = PADDING_MARKER;
      words[at + 1] = sequence;
      offset = 0;
    }
    const at = this.#dataWord + (offset >> 2);
    words[at] = length;
    words[at + 1] = sequence;
    this.#bytes.set(payload, this.#dataOffset + offset + RECORD_HEADER_BYTES);
    const next = (offset + size) & this.#mask;
    words[this.#dataWord + (next >> 2) + 1] = sequence + 1;

    this.#tail = end;
    this.#offset = next;
    this.#sequence = sequence + 1;
    if ((sequence & SEQUENCE_REFRESH_MASK) === SEQUENCE_REFRESH_MASK)
      storePosition(words, H_SEQUENCE, sequence + 1);
    if (this.#corked === 0 || end - this.#publishedTail > this.#corkSpan) this.#flush();
    return true;
  }

  /**
   * Holds back publication until the matching `uncork()`, like `socket.cork()`: records written meanwhile are
   * copied into the ring at once but become visible together, with ONE store of the shared tail and at most one
   * doorbell per sleeping reader for the whole batch, instead of one each per record. The tail's cache line is
   * the one every reader watches, so publishing per record costs the writer a cross-core transfer per record.
   * Calls nest. What is held back is published anyway once it reaches a quarter of the capacity (so a batch larger
   * than that becomes visible in parts), before a full back-pressure ring refuses a record, and by `close()`.
   */
  cork(): void {
    this.#assertOpen();
    this.#corked++;
  }

  /** Ends one `cork()`; the outermost publishes everything written since and wakes sleeping readers. */
  uncork(): void {
    // After close() there is nothing left to publish (close published it): a no-op, like socket.uncork(), so a
    // `finally { uncork() }` never hides the error that closed the writer.
    if (this.#closed || this.#corked === 0) return;
    this.#corked--;
    if (this.#corked === 0) this.#flush();
  }

  /** Whether a `cork()` is holding back publication. */
  get corked(): boolean {
    return this.#corked > 0;
  }

  /**
   * Publishes the tail (all records written so far) and rings the doorbell of every reader that sleeps — when
   * something was published, or always with `wakeAnyway` (a full ring retrying doorbells that failed).
   */
  #flush(wakeAnyway = false): void {
    if (!this.#publishTail() && !wakeAnyway) return;
    if (Atomics.load(this.#words, H_SLEEPERS) !== 0) this.#wakeSleepers();
  }

  /** Makes every record written so far visible; false if there was nothing new to publish. */
  #publishTail(): boolean {
    if (this.#publishedTail === this.#tail) return false;
    this.#publish(H_TAIL, this.#tail);
    this.#publishedTail = this.#tail;
    return true;
  }

  /** Slots currently claimed by readers, with how far each lags. */
  readers(): ReaderInfo[] {
    this.#assertOpen();
    const out: ReaderInfo[] = [];
    for (let slot = 0; slot < this.maxReaders; slot++) {
      const words = this.#words;
      const pid = Atomics.load(words, slotWord(slot, S_PID));
      if (pid <= 0 || Atomics.load(words, slotWord(slot, S_STATE)) !== SLOT_ACTIVE) continue;
      const position = loadPosition(words, slotWord(slot, S_POSITION));
      out.push({
        slot,
        pid,
        position,
        lag: Math.max(0, this.#tail - position),
        sleeping: Atomics.load(words, slotWord(slot, S_SLEEPING)) === 1,
        laps: Atomics.load(words, slotWord(slot, S_LAPS)),
        lostRecords:
          (Atomics.load(words, slotWord(slot, S_LOST_HI)) >>> 0) * TWO_32 +
          (Atomics.load(words, slotWord(slot, S_LOST_LO)) >>> 0),
      });
    }
    return out;
  }

  /**
   * Frees a reader's slot (e.g. its control connection closed). With `pid`, only if that process still owns
   * it, so a slot already reclaimed by someone else is left alone. Returns whether the slot was freed.
   */
  releaseReader(slot: number, pid?: number): boolean {
    this.#assertOpen();
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.maxReaders) {
      throw new InvalidArgumentError(`slot must be an integer from 0 to ${this.maxReaders - 1}, got ${slot}`);
    }
    const owner = Atomics.load(this.#words, slotWord(slot, S_PID));
    if (owner <= 0 || (pid !== undefined && owner !== pid)) return false;
    return freeSlot(this.#words, slot, owner);
  }

  /** Frees every slot whose owner process no longer exists. Returns the slots freed. */
  reapDeadReaders(): number[] {
    this.#assertOpen();
    const freed: number[] = [];
    for (let slot = 0; slot < this.maxReaders; slot++) {
      if (freeSlotOfDeadOwner(this.#words, slot)) freed.push(slot);
    }
    return freed;
  }

  /**
   * Marks the ring closed (readers drain what is left, then end), wakes every sleeping reader, unmaps the
   * segment and, unless `unlink: false`, removes its name.
   */
  close(options: { unlink?: boolean } = {}): void {
    if (this.#closed) return;
    // Closing ends any cork: what was written is published, so readers can drain it before they see the end.
    this.#corked = 0;
    this.#publishTail();
    Atomics.store(this.#words, H_WRITER_STATE, WRITER_CLOSED);
    try {
      this.#wakeSleepers();
    } finally {
      // A doorbell transport that throws must not leave the segment mapped and named: its error surfaces after.
      this.#closed = true;
      this.#segment.close();
      if (options.unlink ?? true) Segment.unlink(this.name);
    }
  }

  // One atomic store per position on the hot path; all three words only when the high word changes.
  #publish(at: number, value: number): void {
    const highEnd = at === H_TAIL ? this.#tailHighEnd : this.#intentHighEnd;
    if (value < highEnd) {
      Atomics.store(this.#words, at + 1, value >>> 0);
      return;
    }
    storePosition(this.#words, at, value);
    const next = (Math.floor(value / TWO_32) + 1) * TWO_32;
    if (at === H_TAIL) this.#tailHighEnd = next;
    else this.#intentHighEnd = next;
  }

  /** Back-pressure: is there room up to `end`? Refreshes the cached limit from the slowest live reader. */
  #hasRoom(end: number): boolean {
    let slowest = this.#slowestReader();
    if (end - slowest > this.capacity && this.reapDeadReaders().length > 0) slowest = this.#slowestReader();
    this.#limit = slowest + this.capacity;
    return end <= this.#limit;
  }

  #slowestReader(): number {
    // Not #tail: a reader may join at any moment, and it starts at the PUBLISHED tail; records a cork holds back
    // past it must not count as room already freed.
    let slowest = this.#publishedTail;
    const words = this.#words;
    for (let slot = 0; slot < this.maxReaders; slot++) {
      if (Atomics.load(words, slotWord(slot, S_STATE)) !== SLOT_ACTIVE) continue;
      const position = loadPosition(words, slotWord(slot, S_POSITION));
      if (position < slowest) slowest = position;
    }
    return slowest;
  }

  // LiteBlocking: only readers that announced they sleep get a doorbell, and each announcement gets one.
  #wakeSleepers(): void {
    const words = this.#words;
    let failure: unknown;
    for (let slot = 0; slot < this.maxReaders; slot++) {
      const at = slotWord(slot, S_SLEEPING);
      if (Atomics.load(words, at) !== 1 || Atomics.compareExchange(words, at, 1, 0) !== 1) continue;
      Atomics.sub(words, H_SLEEPERS, 1);
      try {
        this.onWake?.(slot);
      } catch (error) {
        // The doorbell did not go out: raise the flag again so the next publish retries it, rather than leave
        // that reader asleep with nobody owing it a wake-up. The caller still hears about the failure.
        Atomics.store(words, at, 1);
        Atomics.add(words, H_SLEEPERS, 1);
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError(`ring writer "${this.name}"`);
  }
}
