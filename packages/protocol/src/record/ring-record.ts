/** Fragment information: present when an upstream message is larger than one ring record. */
export interface FragmentInfo {
  /** Per-connection message number, the same in every fragment of one message (wraps at 2^32). */
  readonly messageId: number;
  /** Byte offset of this fragment's payload within the whole message. */
  readonly offset: number;
  /** Bytes of the message after this fragment; 0 in the last one (the original C++ callback's `remaining`). */
  readonly remaining: number;
}

const EMPTY = new Uint8Array(0);

/** Wire values of the record kind byte. */
export const RecordKindCode = { data: 1, event: 2 } as const;

/** Record flag bits. */
export const RecordFlag = {
  /** Data record: the payload is a binary WebSocket message (else text: UTF-8). */
  BINARY: 0x01,
  /** The fragment fields are present. */
  FRAGMENT: 0x02,
  /** Recipients are a bitset (else a list of u16 slot ids). */
  BITSET: 0x04,
} as const;

/** Fixed part of every record: kind, flags, recipients field, connection id, payload length. */
export const RECORD_HEADER_BYTES = 12;
/** Added by the FRAGMENT flag: message id, offset, remaining. */
export const RECORD_FRAGMENT_BYTES = 12;

/**
 * A decoded ring record: a flat object of numbers and one zero-copy payload view, so decoding allocates only this
 * object (or nothing, with `decodeRingRecordInto`). Recipients stay in the source bytes; ask with `isFor(slot)`.
 */
export class RingRecord {
  kind: 'data' | 'event' = 'data';
  connectionId = 0;
  /** Data records: binary WebSocket message (false: text, the payload is UTF-8 — see `decodeText`). */
  binary = false;
  /** True when this record holds one fragment of a larger message. */
  fragmented = false;
  messageId = 0;
  fragmentOffset = 0;
  remaining = 0;
  /** View into the source bytes: copy it if the ring slot will be reused before you are done. */
  payload: Uint8Array = EMPTY;
  /** @internal where the recipients are: the source, their offset, list count or bitset length, encoding. */
  source: Uint8Array = EMPTY;
  /** @internal */
  recipientsOffset = 0;
  /** @internal */
  recipientsField = 0;
  /** @internal */
  bitset = false;

  /** True when the record is addressed to reader `slot`. */
  isFor(slot: number): boolean {
    return recipientsInclude(this.source, this.recipientsOffset, this.recipientsField, this.bitset, slot);
  }

  /** The recipients' slot ids (allocates: for diagnostics and tests; routing uses `isFor`). */
  recipientSlots(): number[] {
    const out: number[] = [];
    const src = this.source;
    const at = this.recipientsOffset;
    if (this.bitset) {
      for (let i = 0; i < this.recipientsField; i++) {
        const v = src[at + i]!;
        for (let bit = 0; bit < 8; bit++) if (v & (1 << bit)) out.push(i * 8 + bit);
      }
    } else {
      for (let i = 0; i < this.recipientsField; i++) out.push(src[at + 2 * i]! | (src[at + 2 * i + 1]! << 8));
    }
    return out;
  }

  /** Length of the whole message this record belongs to. */
  get messageLength(): number {
    return this.fragmentOffset + this.payload.length + this.remaining;
  }
}

/** @internal shared by `RingRecord.isFor` and `ringRecordIsFor`. */
export function recipientsInclude(
  src: Uint8Array,
  at: number,
  field: number,
  bitset: boolean,
  slot: number,
): boolean {
  if (bitset) {
    const byte = slot >>> 3;
    return byte < field && (src[at + byte]! & (1 << (slot & 7))) !== 0;
  }
  for (let i = 0; i < field; i++) {
    if ((src[at + 2 * i]! | (src[at + 2 * i + 1]! << 8)) === slot) return true;
  }
  return false;
}
