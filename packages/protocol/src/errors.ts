/**
 * Every failure this package reports is a `ProtocolError` subclass with a stable `code`. Callers match on `code`
 * (or `instanceof`), never on the message text. One class per failure, like `ws` and `undici` do.
 */

/** Stable codes of the errors thrown by this package (the codec itself, not the daemon). */
export const ProtocolErrorCode = {
  /** A frame or record ends before a field it declares. */
  TRUNCATED: 'WSP_PROTO_TRUNCATED',
  /** A message, event or record kind byte that this version does not know. */
  UNKNOWN_TYPE: 'WSP_PROTO_UNKNOWN_TYPE',
  /** A protocol version number or range that is not valid (0, min > max, not the negotiated one). */
  BAD_VERSION: 'WSP_PROTO_BAD_VERSION',
  /** The client's and the daemon's version ranges do not overlap. */
  VERSION_MISMATCH: 'WSP_PROTO_VERSION_MISMATCH',
  /** A length or count above a configured limit (on encode or on decode). */
  OVER_LIMIT: 'WSP_PROTO_OVER_LIMIT',
  /** Bytes that must be UTF-8 text are not, or a string to encode holds a lone surrogate. */
  BAD_UTF8: 'WSP_PROTO_BAD_UTF8',
  /** A structurally invalid frame: bad lead byte or magic, reserved bits set, bad enum value, trailing bytes. */
  MALFORMED: 'WSP_PROTO_MALFORMED',
  /** The caller's buffer cannot hold what is being encoded. */
  BUFFER_TOO_SMALL: 'WSP_PROTO_BUFFER_TOO_SMALL',
  /** A value given to an encoder or an option is out of its domain (e.g. a non-integer id). */
  INVALID_ARGUMENT: 'WSP_PROTO_INVALID_ARGUMENT',
} as const;

export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

/** Base class of every error thrown by `@wsproxy/protocol`. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** `WSP_PROTO_TRUNCATED`: the input ends before a field it declares. */
export class TruncatedFrameError extends ProtocolError {
  override name = 'TruncatedFrameError';
  /** Bytes the field needed. */
  readonly needed: number;
  /** Bytes that were left. */
  readonly available: number;

  constructor(what: string, needed: number, available: number) {
    super(ProtocolErrorCode.TRUNCATED, `truncated ${what}: needs ${needed} bytes, ${available} left`);
    this.needed = needed;
    this.available = available;
  }
}

/** `WSP_PROTO_UNKNOWN_TYPE`: an unknown message, event or record kind byte. */
export class UnknownTypeError extends ProtocolError {
  override name = 'UnknownTypeError';
  readonly typeByte: number;

  constructor(what: string, typeByte: number) {
    super(ProtocolErrorCode.UNKNOWN_TYPE, `unknown ${what} type 0x${typeByte.toString(16).padStart(2, '0')}`);
    this.typeByte = typeByte;
  }
}

/** `WSP_PROTO_BAD_VERSION`: an invalid version number or range. */
export class BadVersionError extends ProtocolError {
  override name = 'BadVersionError';

  constructor(message: string) {
    super(ProtocolErrorCode.BAD_VERSION, message);
  }
}

/** An inclusive range of protocol versions. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

/** `WSP_PROTO_VERSION_MISMATCH`: no version is supported by both sides; names both ranges. */
export class VersionMismatchError extends ProtocolError {
  override name = 'VersionMismatchError';
  readonly clientRange: VersionRange;
  readonly daemonRange: VersionRange;

  constructor(clientRange: VersionRange, daemonRange: VersionRange) {
    super(
      ProtocolErrorCode.VERSION_MISMATCH,
      `protocol version mismatch: client speaks ${clientRange.min}..${clientRange.max}, ` +
        `daemon speaks ${daemonRange.min}..${daemonRange.max}; upgrade the older side`,
    );
    this.clientRange = { min: clientRange.min, max: clientRange.max };
    this.daemonRange = { min: daemonRange.min, max: daemonRange.max };
  }
}

/** `WSP_PROTO_OVER_LIMIT`: a length or count above its limit. */
export class OverLimitError extends ProtocolError {
  override name = 'OverLimitError';
  /** The name of the limit, as in `ProtocolLimits` (e.g. `maxUrlBytes`). */
  readonly limit: string;
  readonly actual: number;
  readonly max: number;

  constructor(limit: string, actual: number, max: number) {
    super(ProtocolErrorCode.OVER_LIMIT, `${limit} exceeded: ${actual} > ${max}`);
    this.limit = limit;
    this.actual = actual;
    this.max = max;
  }
}

/** `WSP_PROTO_BAD_UTF8`: text that is not valid UTF-8 (decode) or not well-formed UTF-16 (encode). */
export class BadUtf8Error extends ProtocolError {
  override name = 'BadUtf8Error';

  constructor(field: string) {
    super(ProtocolErrorCode.BAD_UTF8, `${field} is not valid UTF-8 text`);
  }
}

/** `WSP_PROTO_MALFORMED`: structurally invalid input. */
export class MalformedFrameError extends ProtocolError {
  override name = 'MalformedFrameError';

  constructor(message: string) {
    super(ProtocolErrorCode.MALFORMED, message);
  }
}

/** `WSP_PROTO_BUFFER_TOO_SMALL`: the target buffer cannot hold the encoding. */
export class BufferTooSmallError extends ProtocolError {
  override name = 'BufferTooSmallError';
  readonly needed: number;
  readonly available: number;

  constructor(needed: number, available: number) {
    super(
      ProtocolErrorCode.BUFFER_TOO_SMALL,
      `buffer too small: needs ${needed} bytes, ${available} available`,
    );
    this.needed = needed;
    this.available = available;
  }
}

/** `WSP_PROTO_INVALID_ARGUMENT`: a value given to an encoder or an option is out of its domain. */
export class InvalidArgumentError extends ProtocolError {
  override name = 'InvalidArgumentError';

  constructor(message: string) {
    super(ProtocolErrorCode.INVALID_ARGUMENT, message);
  }
}
