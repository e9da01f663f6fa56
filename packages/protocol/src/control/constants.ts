import type { ControlMessageType, LogLevel } from './messages.js';

/**
 * The control stream is a sequence of units, each starting with a lead byte:
 *   FRAME_MARK (0x57, 'W') u32le bodyLength body[bodyLength]   — a control message
 *   DOORBELL   (0x07, BEL)                                      — a wake-up, nothing else
 * A doorbell is one byte so the daemon's wake-up costs one tiny write, and sits between frames (never inside one:
 * every frame is written with a single write call), so the reader recognises it from the lead byte alone.
 */
export const FRAME_MARK = 0x57;
/** The doorbell byte: ASCII BEL. */
export const DOORBELL_BYTE = 0x07;
/** A ready doorbell to write (`socket.write(DOORBELL)`): shared, so never modify it. */
export const DOORBELL: Uint8Array = Uint8Array.of(DOORBELL_BYTE);
/** Lead byte + u32 body length. */
export const FRAME_HEADER_BYTES = 5;

/** Magic at the start of a hello body: "WSPX". Lets a daemon refuse a non-wsproxy peer at its first bytes. */
export const HELLO_MAGIC = Uint8Array.of(0x57, 0x53, 0x50, 0x58);

/** Wire values of the type byte (the first byte of every frame body). */
export const MessageTypeCode = {
  hello: 0x01,
  welcome: 0x02,
  refused: 0x03,
  open: 0x10,
  close: 0x11,
  send: 0x12,
  subscribe: 0x13,
  unsubscribe: 0x14,
  setLogLevel: 0x15,
  status: 0x16,
  restore: 0x18,
  ok: 0x20,
  error: 0x21,
  opened: 0x22,
  subscribed: 0x23,
  unsubscribed: 0x24,
  statusReport: 0x25,
  event: 0x30,
} as const satisfies Record<ControlMessageType, number>;

/**
 * Wire value of an `open` that names its adapter's module (protocol version 2): the `open` layout followed by
 * `str16 adapterModule`. A separate type rather than a trailing field, because version-1 decoders refuse trailing
 * bytes; both decode to `{ type: 'open' }`, this one with `adapterModule` set.
 */
export const OPEN_WITH_MODULE_TYPE = 0x17;

/**
 * Wire values of `subscribed` / `unsubscribed` carrying the client's acknowledged subscription state (protocol
 * version 3): the version-1 layout followed by `bytes32 state`. Separate types for the same reason as 0x17: version-1
 * and 2 decoders refuse trailing bytes. Both decode to the plain type with `state` set.
 */
export const SUBSCRIBED_WITH_STATE_TYPE = 0x26;
export const UNSUBSCRIBED_WITH_STATE_TYPE = 0x27;

/**
 * Wire value of an `error` response that carries the vendor's code (protocol version 3): the `error` layout followed
 * by `u32 vendorCode`. Decodes to `{ type: 'error' }` with `vendorCode` set.
 */
export const ERROR_WITH_VENDOR_CODE_TYPE = 0x28;

/** Wire values of log levels. */
export const LogLevelCode = {
  fatal: 1,
  error: 2,
  warn: 3,
  info: 4,
  debug: 5,
  trace: 6,
  silent: 7,
} as const satisfies Record<LogLevel, number>;

export const LOG_LEVELS: readonly LogLevel[] = Object.keys(LogLevelCode) as LogLevel[];
