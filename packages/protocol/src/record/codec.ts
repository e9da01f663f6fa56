import { eventBodyLength } from '../control/codec.js';
import {
  BufferTooSmallError,
  InvalidArgumentError,
  MalformedFrameError,
  OverLimitError,
  TruncatedFrameError,
  UnknownTypeError,
} from '../errors.js';
import { assertEventObject, type ConnectionEvent, readEventBody, writeEventBody } from '../events.js';
import { DEFAULT_LIMITS, type ProtocolLimits } from '../limits.js';
import { isU32, readU16, readU32, writeU16, writeU32 } from '../wire/bytes.js';
import { Reader } from '../wire/reader.js';
import { Writer } from '../wire/writer.js';
import { RecipientSet, type Recipients } from './recipients.js';
import {
  type FragmentInfo,
  RECORD_FRAGMENT_BYTES,
  RECORD_HEADER_BYTES,
  RecordFlag,
  RecordKindCode,
  RingRecord,
  recipientsInclude,
} from './ring-record.js';

/** A data record to encode: one upstream message (or one fragment of it) for a set of readers. */
export interface DataRecordInit {
  readonly connectionId: number;
  readonly binary: boolean;
  readonly recipients: Recipients;
  readonly payload: Uint8Array;
  /** Present when `payload` is one fragment of a larger message. */
  readonly fragment?: FragmentInfo | null;
}

// ---- recipients: list or bitset, whichever is smaller ---------------------------------------------------------

/**
 * Both encodings, picked per record: a list costs 2 bytes per reader, a bitset 1 bit per slot up to the highest.
 * Market data usually goes to a few readers (list: 2-8 bytes); a passthrough feed shared by hundreds goes as a
 * bitset (at most 128 bytes for 1024 slots). Either way `isFor(slot)` is a couple of byte reads.
 */
// The plan for the record being encoded. Module-level scratch rather than a returned object: encoding is
// synchronous and single-threaded, and this keeps the encoder free of per-record allocations.
let planBitset = false;
let planField = 0;
let planBytes = 0;

function planRecipients(recipients: Recipients, limits: ProtocolLimits): void {
  let count: number;
  let maxSlot: number;
  if (recipients instanceof RecipientSet) {
    count = recipients.size;
    maxSlot = recipients.maxSlot;
  } else {
    if (!Array.isArray(recipients)) {
      throw new InvalidArgumentError('recipients must be an array of slots or a RecipientSet');
    }
    count = recipients.length;
    maxSlot = -1;
    for (let i = 0; i < count; i++) {
      const slot = recipients[i]!;
      if (!Number.isInteger(slot) || slot < 0) {
        throw new InvalidArgumentError(`reader slot must be a non-negative integer, got ${slot}`);
      }
      if (slot > maxSlot) maxSlot = slot;
    }
  }
  if (maxSlot >= limits.maxReaderSlots)
    throw new OverLimitError('maxReaderSlots', maxSlot + 1, limits.maxReaderSlots);
  if (count > limits.maxReaderSlots) throw new OverLimitError('maxReaderSlots', count, limits.maxReaderSlots);
  const bitsetBytes = maxSlot < 0 ? 0 : (maxSlot >>> 3) + 1;
  if (count * 2 <= bitsetBytes || count === 0) {
    planBitset = false;
    planField = count;
    planBytes = count * 2;
  } else {
    planBitset = true;
    planField = bitsetBytes;
    planBytes = bitsetBytes;
  }
}

function writeRecipients(target: Uint8Array, at: number, recipients: Recipients): void {
  if (planBitset) {
    if (recipients instanceof RecipientSet) {
      target.set(recipients.bits.subarray(0, planField), at);
    } else {
      target.fill(0, at, at + planField);
      for (let i = 0; i < recipients.length; i++) {
        const slot = recipients[i]!;
        target[at + (slot >>> 3)]! |= 1 << (slot & 7);
      }
    }
    return;
  }
  if (recipients instanceof RecipientSet) {
    // Straight from the bits, no slot array: this is the daemon's per-record path.
    const bits = recipients.bits;
    const lastByte = recipients.maxSlot >>> 3;
    let pos = at;
    for (let byte = 0; byte <= lastByte && recipients.maxSlot >= 0; byte++) {
      const v = bits[byte]!;
      if (v === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if (v & (1 << bit)) {
          writeU16(target, pos, byte * 8 + bit);
          pos += 2;
        }
      }
    }
    return;
  }
  for (let i = 0; i < recipients.length; i++) writeU16(target, at + 2 * i, recipients[i]!);
}

// ---- encode ------------------------------------------------------------------------------------------------------

function checkFragment(fragment: FragmentInfo, payloadLength: number, limits: ProtocolLimits): void {
  if (!isU32(fragment.messageId) || !isU32(fragment.offset) || !isU32(fragment.remaining)) {
    throw new InvalidArgumentError(
      'fragment messageId, offset and remaining must be integers in 0..4294967295',
    );
  }
  const total = fragment.offset + payloadLength + fragment.remaining;
  if (total > limits.maxPayloadBytes)
    throw new OverLimitError('maxPayloadBytes', total, limits.maxPayloadBytes);
}

function writeHeader(
  target: Uint8Array,
  at: number,
  kind: number,
  flags: number,
  connectionId: number,
  payloadLength: number,
): void {
  target[at] = kind;
  target[at + 1] = flags | (planBitset ? RecordFlag.BITSET : 0);
  writeU16(target, at + 2, planField);
  writeU32(target, at + 4, connectionId);
  writeU32(target, at + 8, payloadLength);
}

function checkTarget(target: Uint8Array, offset: number, length: number): void {
  if (!Number.isInteger(offset) || offset < 0)
    throw new InvalidArgumentError(`offset must be >= 0, got ${offset}`);
  if (offset + length > target.length) throw new BufferTooSmallError(offset + length, target.length);
}

/** Exact encoded length of a data record. */
export function dataRecordLength(init: DataRecordInit, limits: ProtocolLimits = DEFAULT_LIMITS): number {
  const payload = checkedPayload(init);
  planRecipients(init.recipients, limits);
  return RECORD_HEADER_BYTES + (init.fragment ? RECORD_FRAGMENT_BYTES : 0) + planBytes + payload.length;
}

function checkedPayload(init: DataRecordInit): Uint8Array {
  if (!(init?.payload instanceof Uint8Array)) throw new InvalidArgumentError('payload must be a Uint8Array');
  return init.payload;
}

/**
 * Encodes a data record into `target` at `offset` (e.g. straight into a reserved ring slot); returns bytes written.
 * The payload is copied once, here; everything else is a dozen byte stores.
 */
export function encodeDataRecordInto(
  target: Uint8Array,
  offset: number,
  init: DataRecordInit,
  limits: ProtocolLimits = DEFAULT_LIMITS,
): number {
  const payload = checkedPayload(init);
  const { connectionId, fragment } = init;
  if (!isU32(connectionId) || connectionId === 0) {
    throw new InvalidArgumentError(`connectionId must be an integer in 1..4294967295, got ${connectionId}`);
  }
  if (payload.length > limits.maxPayloadBytes) {
    throw new OverLimitError('maxPayloadBytes', payload.length, limits.maxPayloadBytes);
  }
  planRecipients(init.recipients, limits);
  let flags = init.binary ? RecordFlag.BINARY : 0;
  let length = RECORD_HEADER_BYTES + planBytes + payload.length;
  if (fragment) {
    checkFragment(fragment, payload.length, limits);
    flags |= RecordFlag.FRAGMENT;
    length += RECORD_FRAGMENT_BYTES;
  }
  checkTarget(target, offset, length);
  writeHeader(target, offset, RecordKindCode.data, flags, connectionId, payload.length);
  let at = offset + RECORD_HEADER_BYTES;
  if (fragment) {
    writeU32(target, at, fragment.messageId);
    writeU32(target, at + 4, fragment.offset);
    writeU32(target, at + 8, fragment.remaining);
    at += RECORD_FRAGMENT_BYTES;
  }
  writeRecipients(target, at, init.recipients);
  target.set(payload, at + planBytes);
  return length;
}

/** Encodes a data record into a new buffer of exactly the right size. */
export function encodeDataRecord(init: DataRecordInit, limits: ProtocolLimits = DEFAULT_LIMITS): Uint8Array {
  const out = new Uint8Array(dataRecordLength(init, limits));
  encodeDataRecordInto(out, 0, init, limits);
  return out;
}

/** Exact encoded length of an event record. */
export function eventRecordLength(
  event: ConnectionEvent,
  recipients: Recipients,
  limits: ProtocolLimits = DEFAULT_LIMITS,
): number {
  planRecipients(recipients, limits);
  return RECORD_HEADER_BYTES + planBytes + eventBodyLength(event);
}

/** Encodes a connection event for a set of readers as a ring record; returns bytes written. */
export function encodeEventRecordInto(
  target: Uint8Array,
  offset: number,
  event: ConnectionEvent,
  recipients: Recipients,
  limits: ProtocolLimits = DEFAULT_LIMITS,
): number {
  assertEventObject(event);
  if (!isU32(event.connectionId)) {
    throw new InvalidArgumentError(
      `connectionId must be an integer in 0..4294967295, got ${event.connectionId}`,
    );
  }
  const bodyLength = eventBodyLength(event);
  planRecipients(recipients, limits);
  const length = RECORD_HEADER_BYTES + planBytes + bodyLength;
  checkTarget(target, offset, length);
  writeHeader(target, offset, RecordKindCode.event, 0, event.connectionId, bodyLength);
  writeRecipients(target, offset + RECORD_HEADER_BYTES, recipients);
  const w = new Writer(target, offset + RECORD_HEADER_BYTES + planBytes);
  writeEventBody(w, event, limits);
  return length;
}

/** Encodes an event record into a new buffer of exactly the right size. */
export function encodeEventRecord(
  event: ConnectionEvent,
  recipients: Recipients,
  limits: ProtocolLimits = DEFAULT_LIMITS,
): Uint8Array {
  const out = new Uint8Array(eventRecordLength(event, recipients, limits));
  encodeEventRecordInto(out, 0, event, recipients, limits);
  return out;
}

// ---- decode ------------------------------------------------------------------------------------------------------

const KNOWN_FLAGS = RecordFlag.BINARY | RecordFlag.FRAGMENT | RecordFlag.BITSET;

/**
 * Decodes a ring record (from `bytes[0]`) into `record`, reusing it: the allocation-free path for a reader loop.
 * Bytes after the payload are ignored, so a ring may pad records. Returns `record`.
 */
export function decodeRingRecordInto(
  record: RingRecord,
  bytes: Uint8Array,
  limits: ProtocolLimits = DEFAULT_LIMITS,
): RingRecord {
  const n = bytes.length;
  if (n < RECORD_HEADER_BYTES) throw new TruncatedFrameError('ring record header', RECORD_HEADER_BYTES, n);
  const kind = bytes[0]!;
  const flags = bytes[1]!;
  if (kind !== RecordKindCode.data && kind !== RecordKindCode.event)
    throw new UnknownTypeError('ring record', kind);
  if ((flags & ~KNOWN_FLAGS) !== 0) {
    throw new MalformedFrameError(`ring record: reserved flag bits set (0x${flags.toString(16)})`);
  }
  const field = readU16(bytes, 2);
  const connectionId = readU32(bytes, 4);
  const payloadLength = readU32(bytes, 8);
  const fragmented = (flags & RecordFlag.FRAGMENT) !== 0;
  const bitset = (flags & RecordFlag.BITSET) !== 0;
  if (kind === RecordKindCode.event && (flags & (RecordFlag.BINARY | RecordFlag.FRAGMENT)) !== 0) {
    throw new MalformedFrameError('ring record: an event record cannot be binary or fragmented');
  }
  if (kind === RecordKindCode.data && connectionId === 0) {
    throw new MalformedFrameError('ring record: connectionId 0 is reserved');
  }
  if (payloadLength > limits.maxPayloadBytes) {
    throw new OverLimitError('maxPayloadBytes', payloadLength, limits.maxPayloadBytes);
  }
  let at = RECORD_HEADER_BYTES;
  let messageId = 0;
  let fragmentOffset = 0;
  let remaining = 0;
  if (fragmented) {
    if (n < at + RECORD_FRAGMENT_BYTES) {
      throw new TruncatedFrameError('ring record fragment info', RECORD_FRAGMENT_BYTES, n - at);
    }
    messageId = readU32(bytes, at);
    fragmentOffset = readU32(bytes, at + 4);
    remaining = readU32(bytes, at + 8);
    if (fragmentOffset + payloadLength + remaining > limits.maxPayloadBytes) {
      throw new OverLimitError(
        'maxPayloadBytes',
        fragmentOffset + payloadLength + remaining,
        limits.maxPayloadBytes,
      );
    }
    at += RECORD_FRAGMENT_BYTES;
  }
  let recipientBytes: number;
  const maxSlots = limits.maxReaderSlots;
  if (bitset) {
    recipientBytes = field;
    if (field > (maxSlots + 7) >>> 3) throw new OverLimitError('maxReaderSlots', field * 8, maxSlots);
  } else {
    recipientBytes = field * 2;
    if (field > maxSlots) throw new OverLimitError('maxReaderSlots', field, maxSlots);
  }
  if (n < at + recipientBytes + payloadLength) {
    throw new TruncatedFrameError('ring record', at + recipientBytes + payloadLength, n);
  }
  if (!bitset) {
    for (let i = 0; i < field; i++) {
      const slot = readU16(bytes, at + 2 * i);
      if (slot >= maxSlots) throw new OverLimitError('maxReaderSlots', slot + 1, maxSlots);
    }
  }
  record.kind = kind === RecordKindCode.data ? 'data' : 'event';
  record.connectionId = connectionId;
  record.binary = (flags & RecordFlag.BINARY) !== 0;
  record.fragmented = fragmented;
  record.messageId = messageId;
  record.fragmentOffset = fragmentOffset;
  record.remaining = remaining;
  record.source = bytes;
  record.recipientsOffset = at;
  record.recipientsField = field;
  record.bitset = bitset;
  const payloadStart = at + recipientBytes;
  record.payload = bytes.subarray(payloadStart, payloadStart + payloadLength);
  return record;
}

/** Decodes a ring record into a new `RingRecord`. The payload is a view into `bytes`. */
export function decodeRingRecord(bytes: Uint8Array, limits: ProtocolLimits = DEFAULT_LIMITS): RingRecord {
  return decodeRingRecordInto(new RingRecord(), bytes, limits);
}

/** Decodes the event carried by an event record. */
export function decodeRecordEvent(
  record: RingRecord,
  limits: ProtocolLimits = DEFAULT_LIMITS,
): ConnectionEvent {
  if (record.kind !== 'event') throw new InvalidArgumentError('decodeRecordEvent needs an event record');
  const r = new Reader(record.payload, 0, record.payload.length, 'event record');
  const event = readEventBody(r, record.connectionId, limits);
  r.finish();
  return event;
}

/**
 * True when the record in `bytes` is addressed to reader `slot`: a reader's skip test, reading only the header and
 * recipients, allocating nothing. Throws `TruncatedFrameError` when the bytes cannot hold what the header declares.
 */
export function ringRecordIsFor(bytes: Uint8Array, slot: number): boolean {
  const n = bytes.length;
  if (n < RECORD_HEADER_BYTES) throw new TruncatedFrameError('ring record header', RECORD_HEADER_BYTES, n);
  const flags = bytes[1]!;
  const field = readU16(bytes, 2);
  const at = RECORD_HEADER_BYTES + ((flags & RecordFlag.FRAGMENT) !== 0 ? RECORD_FRAGMENT_BYTES : 0);
  const bitset = (flags & RecordFlag.BITSET) !== 0;
  const recipientBytes = bitset ? field : field * 2;
  if (n < at + recipientBytes)
    throw new TruncatedFrameError('ring record recipients', at + recipientBytes, n);
  return recipientsInclude(bytes, at, field, bitset, slot);
}
