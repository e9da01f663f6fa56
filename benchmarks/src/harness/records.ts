// The benchmark's data record: 100 bytes like a typical market-data frame, with a sequence number (to count loss
// and reordering), an end flag (so readers know the writer is done without a side channel) and a send timestamp
// (for one-way latency). The same bytes travel over every transport, product and baseline alike.
export const RECORD_SIZE = 100;

const SEQ = 0;
const FLAGS = 4;
const STAMP = 8;
export const FLAG_END = 1;

export function fillRecord(record: Buffer, seq: number, flags = 0): void {
  record.writeUInt32LE(seq >>> 0, SEQ);
  record.writeUInt32LE(flags, FLAGS);
}

/** Stamps the record with the sender's CLOCK_MONOTONIC (shared by all processes of one machine). */
export function stampRecord(record: Buffer | Uint8Array, at: bigint): void {
  new DataView(record.buffer, record.byteOffset, record.byteLength).setBigUint64(STAMP, at, true);
}

export function makeRecord(seq: number, flags = 0): Buffer {
  const record = Buffer.alloc(RECORD_SIZE, 0x61);
  fillRecord(record, seq, flags);
  return record;
}

export function recordSeq(view: DataView, offset = 0): number {
  return view.getUint32(offset + SEQ, true);
}

export function recordFlags(view: DataView, offset = 0): number {
  return view.getUint32(offset + FLAGS, true);
}

export function recordStamp(view: DataView, offset = 0): bigint {
  return view.getBigUint64(offset + STAMP, true);
}

/**
 * Counts what a reader received: records, out-of-sequence jumps (loss or reordering) and the end marker.
 * Shared by every reader role so all transports are judged by the same rules.
 */
export class ReceiveTally {
  received = 0;
  /** Records missing between consecutive sequence numbers (0 for a lossless transport). */
  missing = 0;
  /** Sequence numbers that went backwards (duplicates or reordering; must stay 0). */
  backwards = 0;
  firstNs = 0n;
  lastNs = 0n;
  ended = false;
  private expected = -1;

  /** Accounts one record; returns true when it was the end marker. */
  onRecord(seq: number, flags: number): boolean {
    if ((flags & FLAG_END) !== 0) {
      this.ended = true;
      this.lastNs = process.hrtime.bigint();
      return true;
    }
    if (this.received === 0) this.firstNs = process.hrtime.bigint();
    this.received++;
    if (this.expected >= 0 && seq !== this.expected) {
      if (seq > this.expected) this.missing += seq - this.expected;
      else this.backwards++;
    }
    this.expected = seq + 1;
    return false;
  }

  summary(): TallySummary {
    return {
      received: this.received,
      missing: this.missing,
      backwards: this.backwards,
      firstNs: this.firstNs,
      lastNs: this.lastNs === 0n ? process.hrtime.bigint() : this.lastNs,
      ended: this.ended,
    };
  }
}

export interface TallySummary {
  received: number;
  missing: number;
  backwards: number;
  firstNs: bigint;
  lastNs: bigint;
  ended: boolean;
}

/** What a writer role reports after a timed burst. */
export interface WriterSummary {
  sent: number;
  startNs: bigint;
  endNs: bigint;
}

/** Writes records as fast as the transport accepts them for `durationMs`, then returns. */
export interface TimedWriteArgs {
  durationMs: number;
  /** Records per batch (per write call for stream transports). */
  batch: number;
}
