/**
 * The shared byte layout (see LAYOUT.md for the full protocol). All control words are little-endian int32
 * accessed with Atomics; 64-bit positions are stored as (hiA, lo, hiB) triples so they can be read consistently
 * without BigInt: the writer stores hiA, then lo, then hiB; a reader loads hiB, lo, hiA and retries if the two
 * high words differ.
 */
import { CorruptHeaderError } from './errors.js';

export const MAGIC = 0x51524d57; // "WMRQ" read as little-endian bytes
export const LAYOUT_VERSION = 1;

export const HEADER_BYTES = 256;
export const SLOT_BYTES = 64;
/** Record header: int32 payload length (PADDING_MARKER for padding), uint32 low 32 bits of the sequence. */
export const RECORD_HEADER_BYTES = 8;
export const RECORD_ALIGN = 8;
export const PADDING_MARKER = -1;

// Header words (int32 index = byte offset / 4).
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_DATA_OFFSET = 2;
export const H_CAPACITY = 3;
export const H_MAX_READERS = 4;
export const H_SLOT_BYTES = 5;
export const H_RECORD_ALIGN = 6;
export const H_FLAGS = 7;
export const H_MAX_RECORD = 8;
export const H_WRITER_PID = 9;
export const H_WRITER_STATE = 10;
export const H_SLEEPERS = 11;
/** Published end of the last complete record (byte 64, its own cache line). */
export const H_TAIL = 16;
/** The writer changes no byte at or past this (it may run a capacity/256 step ahead); bytes before `intent - capacity` may be overwritten. */
export const H_INTENT = 32;
/**
 * A recent value of the writer's next sequence number (refreshed every 2^20 records). Records carry only the low
 * 32 bits of their sequence; a joining reader extends them to 64 bits with this word.
 */
export const H_SEQUENCE = 48;

export const FLAG_BACK_PRESSURE = 1;

export const WRITER_OPEN = 1;
export const WRITER_CLOSED = 2;

// Reader slot words, relative to the slot's first int32.
export const S_PID = 0;
export const S_STATE = 1;
export const S_POSITION = 2; // hiA, lo, hiB at 2, 3, 4
export const S_SLEEPING = 5;
export const S_LAPS = 6;
export const S_LOST_LO = 7;
export const S_LOST_HI = 8;
export const S_GENERATION = 9;
/**
 * 1 while the slot's reader wants to spin (`idle: 'spin'` or `'backoff'`), so readers can count how many spin on
 * this ring and the extra ones step down to blocking instead of fighting over the cores. Was always 0 before
 * (slots are zero-filled), so older readers simply do not count: no layout version change.
 */
export const S_SPIN_WANTED = 10;

export const SLOT_FREE = 0;
export const SLOT_ACTIVE = 1;
/** Pid-word value while a slot is being freed; never a real pid. */
export const SLOT_RELEASING = -1;

export const TWO_32 = 4294967296;

export function slotWord(slot: number, word: number): number {
  return (HEADER_BYTES + slot * SLOT_BYTES) / 4 + word;
}

export function dataOffsetFor(maxReaders: number): number {
  return align(HEADER_BYTES + maxReaders * SLOT_BYTES, 64);
}

export function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

export function recordBytes(payloadLength: number): number {
  return (RECORD_HEADER_BYTES + payloadLength + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1);
}

/**
 * How long a position's two high words may disagree before it is taken for damaged. They differ only for the few
 * instructions of one store, so this is never reached by a live writer that is merely slow or descheduled — only by
 * one that died between its stores at a 2^32 crossing, or by a corrupted segment. Either way: an error, not a hang.
 */
const TORN_POSITION_LIMIT_MS = 1_000;

/** Reads a 64-bit position consistently (see the file comment); `ring` names the ring in the error. */
export function loadPosition(words: Int32Array, at: number, ring = '(unnamed)'): number {
  let since = 0;
  for (let tries = 1; ; tries++) {
    const hiB = Atomics.load(words, at + 2);
    const lo = Atomics.load(words, at + 1);
    const hiA = Atomics.load(words, at);
    if (hiA === hiB) return hiA * TWO_32 + (lo >>> 0);
    if (tries % 1024 === 0) {
      const now = performance.now();
      if (since === 0) since = now;
      else if (now - since > TORN_POSITION_LIMIT_MS) {
        throw new CorruptHeaderError(
          ring,
          `the 64-bit position at byte ${at * 4} stays torn (high words ${hiA} and ${hiB})`,
        );
      }
    }
  }
}

/** Stores a 64-bit position; only the writer of that position calls this. */
export function storePosition(words: Int32Array, at: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  if (Atomics.load(words, at) !== hi) {
    Atomics.store(words, at, hi);
    Atomics.store(words, at + 1, value >>> 0);
    Atomics.store(words, at + 2, hi);
  } else {
    Atomics.store(words, at + 1, value >>> 0);
  }
}
