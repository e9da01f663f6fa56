import { type ConnectionEvent, decodeRecordEvent, decodeRingRecordInto, RingRecord } from '@wsproxy/protocol';
import {
  type GapInfo,
  type IdleChange,
  type IdleDegradeReason,
  type IdleStrategy,
  RingReader,
} from '@wsproxy/shm-queue';

export interface RingConsumerHandlers {
  /**
   * A data record addressed to us. `record.payload` views the ring: copy what you keep, then call `intact()` — false
   * means the writer lapped us while we copied, and the copy must be thrown away.
   */
  data(record: RingRecord, intact: () => boolean): void;
  event(event: ConnectionEvent): void;
  /** Records overwritten before we read them; we cannot know which connections they belonged to. */
  gap(lostRecords: number): void;
  /** The reader stopped: the writer closed the ring, or vanished (`error`). */
  ended(error: Error | undefined): void;
  /** A `spin`/`backoff` reader degraded to `block` (too many spinners, or preempted), or went back. */
  idleChange(change: IdleChange): void;
}

/**
 * Reads the daemon's ring and keeps only the records addressed to our slot. Waits with the chosen idle strategy:
 * `block` sleeps until the daemon rings our doorbell (no CPU while idle).
 */
export class RingConsumer {
  private readonly reader: RingReader;
  private readonly record = new RingRecord();
  private readonly intact = () => this.reader.verify();
  private stopped = false;
  private watch: { readonly sequence: number; readonly reached: () => void } | undefined;

  constructor(
    ringName: string,
    private readonly slot: number,
    idle: IdleStrategy,
    private readonly handlers: RingConsumerHandlers,
  ) {
    // Claim exactly the slot the daemon assigned: it addresses our records and rings our doorbell by it.
    this.reader = RingReader.open({
      name: ringName,
      slot,
      idle,
      onGap: (gap: GapInfo) => this.handlers.gap(gap.lost),
      onIdleChange: (change: IdleChange) => this.handlers.idleChange(change),
    });
    void this.run();
  }

  /** How the reader waits right now: the requested strategy, or `block` while degraded. */
  get effectiveIdle(): IdleStrategy {
    return this.reader.effectiveIdle;
  }

  get idleDegraded(): IdleDegradeReason | undefined {
    return this.reader.idleDegraded;
  }

  /** A doorbell byte arrived on the control socket. */
  wake(): void {
    this.reader.notify();
  }

  /** The control socket closed: the writer is gone; drain what is there and stop. */
  writerGone(): void {
    this.reader.writerGone();
  }

  /**
   * Calls `reached` once every record before `sequence` has been read (at once if that is so already), before the
   * record at `sequence` is handed out. One watch at a time: a new one replaces the old.
   */
  /** The ring sequence of the record being handed out now (for accounting that must know where a message lay). */
  currentSequence = -1;

  whenRead(sequence: number, reached: () => void): void {
    if (this.reader.lastSequence + 1 >= sequence) {
      this.watch = undefined;
      reached();
      return;
    }
    this.watch = { sequence, reached };
  }

  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reader.close();
  }

  private async run(): Promise<void> {
    // A watch on `sequence` is reached once every record before it has been handled: before handling a record at or
    // past it (a lap can jump over it), or right after handling the record just before it. Waiting only for a record
    // at or past it hung whenever that one was the last record written (nothing more to read).
    const reachedBy = (sequence: number) => {
      const watch = this.watch;
      if (watch && sequence >= watch.sequence) {
        this.watch = undefined;
        watch.reached();
      }
    };
    const onRecord = (buffer: Uint8Array, offset: number, length: number, sequence: number) => {
      reachedBy(sequence);
      this.currentSequence = sequence;
      this.onRecord(buffer, offset, length);
      reachedBy(sequence + 1);
    };
    try {
      while (!this.stopped && (await this.reader.ready())) {
        if (this.stopped) break;
        this.reader.poll(onRecord);
      }
      this.finish(undefined);
    } catch (error) {
      this.finish(this.stopped ? undefined : (error as Error));
    }
  }

  private finish(error: Error | undefined): void {
    if (!this.stopped) this.close();
    this.handlers.ended(error);
  }

  /**
   * A throwing user listener must not break the reader mid-batch (that would look like a daemon failure): the
   * exception is rethrown on its own, as an exception from any event listener would be.
   */
  private onRecord(buffer: Uint8Array, offset: number, length: number): void {
    try {
      this.dispatch(buffer, offset, length);
    } catch (error) {
      process.nextTick(() => {
        throw error;
      });
    }
  }

  private dispatch(buffer: Uint8Array, offset: number, length: number): void {
    let record: RingRecord;
    try {
      record = decodeRingRecordInto(this.record, buffer.subarray(offset, offset + length));
    } catch {
      // Torn by a lap mid-read (or a daemon bug): either way one record is lost, and we say so.
      this.handlers.gap(1);
      return;
    }
    if (!record.isFor(this.slot)) return;
    if (record.kind === 'event') {
      const event = decodeRecordEvent(record);
      if (this.reader.verify()) this.handlers.event(event);
      return;
    }
    this.handlers.data(record, this.intact);
  }
}
