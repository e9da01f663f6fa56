import { InvalidArgumentError } from './errors.js';

/**
 * Explicit bounds on everything a peer can make us read or write. Checked on encode (so we never send what the
 * other side must refuse) and on decode (so a claimed length is refused before anything is read or allocated).
 */
export interface ProtocolLimits {
  /** Largest control frame body (type byte included). */
  readonly maxFrameBytes: number;
  /** Largest URL in an `open` request, in UTF-8 bytes. */
  readonly maxUrlBytes: number;
  /** Most headers in an `open` request. */
  readonly maxHeaderCount: number;
  /** Sum of the UTF-8 bytes of all header names and values in an `open` request. */
  readonly maxHeaderBytes: number;
  /** Any other string (names, codes, messages, reasons, credentials, ring name), in UTF-8 bytes. */
  readonly maxStringBytes: number;
  /** A `send` payload, a data record payload, and a whole (reassembled) message. */
  readonly maxPayloadBytes: number;
  /** Adapter parameters and replies (`subscribe`, `unsubscribe`). */
  readonly maxParamsBytes: number;
  /** The JSON of a status report. */
  readonly maxStatusBytes: number;
  /** Reader slots are `0 .. maxReaderSlots - 1`; bounds recipient lists and bitsets. */
  readonly maxReaderSlots: number;
}

/** Largest control frame body: a maximal payload plus room for the request around it. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024 + 64 * 1024;
export const MAX_URL_BYTES = 8192;
export const MAX_HEADER_COUNT = 64;
export const MAX_HEADER_BYTES = 16 * 1024;
export const MAX_STRING_BYTES = 4096;
/** 64 MiB: above what Alpaca sends in one frame by orders of magnitude, below `ws`'s 100 MiB default. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
export const MAX_PARAMS_BYTES = 1024 * 1024;
export const MAX_STATUS_BYTES = 4 * 1024 * 1024;
/** 4096 readers: four times the 1024 clients we promise; the wire format itself allows 65536. */
export const MAX_READER_SLOTS = 4096;

/** What the wire format can express at all; limits may be lowered but never raised above these. */
export const WIRE_CEILINGS: ProtocolLimits = Object.freeze({
  maxFrameBytes: 0xffff_ffff,
  maxUrlBytes: 0xffff,
  maxHeaderCount: 0xffff,
  maxHeaderBytes: 0xffff_ffff,
  maxStringBytes: 0xffff,
  maxPayloadBytes: 0xffff_ffff,
  maxParamsBytes: 0xffff_ffff,
  maxStatusBytes: 0xffff_ffff,
  maxReaderSlots: 0x1_0000,
});

export const DEFAULT_LIMITS: ProtocolLimits = Object.freeze({
  maxFrameBytes: MAX_FRAME_BYTES,
  maxUrlBytes: MAX_URL_BYTES,
  maxHeaderCount: MAX_HEADER_COUNT,
  maxHeaderBytes: MAX_HEADER_BYTES,
  maxStringBytes: MAX_STRING_BYTES,
  maxPayloadBytes: MAX_PAYLOAD_BYTES,
  maxParamsBytes: MAX_PARAMS_BYTES,
  maxStatusBytes: MAX_STATUS_BYTES,
  maxReaderSlots: MAX_READER_SLOTS,
});

/**
 * Validates overrides and fills in the defaults. Resolve once and pass the result to the codec: the hot paths take
 * a resolved `ProtocolLimits` so they never merge objects per call.
 */
export function resolveLimits(overrides: Partial<ProtocolLimits> = {}): ProtocolLimits {
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(DEFAULT_LIMITS, name)) {
      throw new InvalidArgumentError(`unknown limit ${name}`);
    }
    const ceiling = WIRE_CEILINGS[name as keyof ProtocolLimits];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > ceiling) {
      throw new InvalidArgumentError(`${name} must be an integer in 1..${ceiling}, got ${String(value)}`);
    }
    limits[name] = value;
  }
  return Object.freeze(limits) as unknown as ProtocolLimits;
}
