import { InvalidArgumentError } from '../errors.js';
import { DEFAULT_LIMITS, type ProtocolLimits, resolveLimits } from '../limits.js';
import { RecipientSet, type Recipients } from './recipients.js';
import {
  type FragmentInfo,
  RECORD_FRAGMENT_BYTES,
  RECORD_HEADER_BYTES,
  type RingRecord,
} from './ring-record.js';

/** One record's worth of a message, as `fragmentPayload` yields it: pass both to `encodeDataRecordInto`. */
export interface PayloadPart {
  readonly payload: Uint8Array;
  /** null when the message fits in one record (no fragment fields at all). */
  readonly fragment: FragmentInfo | null;
}

/**
 * Largest payload that fits in a record of `maxRecordBytes` for these recipients when fragment fields are present:
 * what the daemon passes to `fragmentPayload` given its ring's largest record.
 */
export function maxFragmentPayload(
  maxRecordBytes: number,
  recipients: Recipients,
  limits: ProtocolLimits = DEFAULT_LIMITS,
): number {
  const count = recipients instanceof RecipientSet ? recipients.size : recipients.length;
  let maxSlot = -1;
  if (recipients instanceof RecipientSet) maxSlot = recipients.maxSlot;
  else for (const slot of recipients) if (slot > maxSlot) maxSlot = slot;
  const bitsetBytes = maxSlot < 0 ? 0 : (maxSlot >>> 3) + 1;
  const recipientBytes = count * 2 <= bitsetBytes || count === 0 ? count * 2 : bitsetBytes;
  const room = Math.min(
    maxRecordBytes - RECORD_HEADER_BYTES - RECORD_FRAGMENT_BYTES - recipientBytes,
    limits.maxPayloadBytes,
  );
  if (room < 1) throw new InvalidArgumentError(`a record of ${maxRecordBytes} bytes cannot hold any payload`);
  return room;
}

/**
 * Splits a message into record payloads of at most `maxPartBytes` (views, no copies). A message that fits yields one
 * part without fragment info; a larger one yields fragments with `messageId`, rising `offset` and falling
 * `remaining`, as the C++ original's callback reported them.
 */
export function* fragmentPayload(
  payload: Uint8Array,
  maxPartBytes: number,
  messageId: number,
): Generator<PayloadPart> {
  if (!Number.isInteger(maxPartBytes) || maxPartBytes < 1) {
    throw new InvalidArgumentError(`maxPartBytes must be a positive integer, got ${maxPartBytes}`);
  }
  if (payload.length <= maxPartBytes) {
    yield { payload, fragment: null };
    return;
  }
  for (let offset = 0; offset < payload.length; offset += maxPartBytes) {
    const end = Math.min(payload.length, offset + maxPartBytes);
    yield {
      payload: payload.subarray(offset, end),
      fragment: { messageId, offset, remaining: payload.length - end },
    };
  }
}

/** What an assembler dropped: a message of which fragments were lost (to a gap, or out of sequence). */
export interface FragmentLoss {
  readonly connectionId: number;
  readonly messageId: number;
  /** Bytes of the message that had arrived and are thrown away (the message's full length is `messageLength`). */
  readonly droppedBytes: number;
  readonly messageLength: number;
}

export interface FragmentAssemblerOptions {
  limits?: Partial<ProtocolLimits>;
  /** Told about every message that could not be completed: nothing is lost silently. */
  onLoss?: (loss: FragmentLoss) => void;
}

interface PartialMessage {
  messageId: number;
  messageLength: number;
  /** Offset the next fragment must have. */
  position: number;
  /** Bytes of this message that arrived. */
  received: number;
  parts: Uint8Array[];
  dropping: boolean;
}

/**
 * Reassembles fragmented messages, per connection, on the reader's side. Each fragment is copied out of the ring as
 * it arrives (the ring will reuse the slot), so memory follows bytes received, never a claimed length; the whole
 * message is joined once, at its last fragment.
 */
export class FragmentAssembler {
  readonly #limits: ProtocolLimits;
  readonly #onLoss: ((loss: FragmentLoss) => void) | undefined;
  readonly #partials = new Map<number, PartialMessage>();
  /** Messages dropped incomplete since creation. */
  lostMessages = 0;
  /** Bytes of those messages that had arrived. */
  lostBytes = 0;

  constructor(options: FragmentAssemblerOptions = {}) {
    this.#limits = resolveLimits(options.limits);
    this.#onLoss = options.onLoss;
  }

  /** Bytes held for incomplete messages. */
  get pendingBytes(): number {
    let n = 0;
    for (const p of this.#partials.values()) n += p.received;
    return n;
  }

  /**
   * Feeds a data record. Returns the whole message when `record` completes one: `record.payload` itself for an
   * unfragmented record (a view: copy it to keep it), a new buffer for a reassembled one. Returns null while a
   * message is incomplete. A record that does not continue the message in progress drops that message (reported
   * through `onLoss` and the counters) and is then taken on its own merits.
   */
  push(record: RingRecord): Uint8Array | null {
    if (record.kind !== 'data') throw new InvalidArgumentError('FragmentAssembler takes data records');
    const id = record.connectionId;
    const partial = this.#partials.get(id);
    if (!record.fragmented) {
      if (partial) this.#drop(id, partial);
      return record.payload;
    }
    const length = record.messageLength;
    if (length > this.#limits.maxPayloadBytes) {
      // Decoding with the same limits already refuses this; checked again because records may come from elsewhere.
      throw new InvalidArgumentError(`message of ${length} bytes exceeds maxPayloadBytes`);
    }
    let current = partial;
    if (current && (current.messageId !== record.messageId || current.messageLength !== length)) {
      // Another message started before this one ended: its tail was lost.
      this.#drop(id, current);
      current = undefined;
    } else if (current && current.position !== record.fragmentOffset) {
      // A fragment of this very message was lost: keep counting it, as one loss, reported at its end.
      current.dropping = true;
      current.parts = [];
      current.position = record.fragmentOffset;
    }
    if (!current) {
      if (record.fragmentOffset === 0 && record.remaining === 0) return record.payload; // one fragment: the whole
      current = {
        messageId: record.messageId,
        messageLength: length,
        position: record.fragmentOffset,
        received: 0,
        parts: [],
        // The head of this message was lost: what arrives of it is counted and dropped, not assembled.
        dropping: record.fragmentOffset !== 0,
      };
      this.#partials.set(id, current);
    }
    current.position += record.payload.length;
    current.received += record.payload.length;
    if (!current.dropping) current.parts.push(record.payload.slice());
    if (record.remaining > 0) return null;
    this.#partials.delete(id);
    if (current.dropping) {
      this.#report(id, current);
      return null;
    }
    const out = new Uint8Array(current.received);
    let at = 0;
    for (const part of current.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Drops incomplete messages (of one connection, or all), e.g. after a gap or a close; returns bytes dropped. */
  discard(connectionId?: number): number {
    let dropped = 0;
    for (const [id, partial] of this.#partials) {
      if (connectionId !== undefined && id !== connectionId) continue;
      dropped += partial.received;
      this.#drop(id, partial);
    }
    return dropped;
  }

  #drop(connectionId: number, partial: PartialMessage): void {
    this.#partials.delete(connectionId);
    this.#report(connectionId, partial);
  }

  #report(connectionId: number, partial: PartialMessage): void {
    this.lostMessages++;
    this.lostBytes += partial.received;
    this.#onLoss?.({
      connectionId,
      messageId: partial.messageId,
      droppedBytes: partial.received,
      messageLength: partial.messageLength,
    });
  }
}
