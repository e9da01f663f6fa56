import { InvalidArgumentError, UnknownTypeError } from './errors.js';
import type { ProtocolLimits } from './limits.js';
import type { Reader } from './wire/reader.js';
import type { Writer } from './wire/writer.js';

/**
 * What happens to a shared connection, told to every client of it. One encoding, two carriers: an `event` control
 * frame (to one client) or an event record in the ring (to many). `connectionId` 0 means "not about one connection"
 * (e.g. a gap in the ring, which loses records of every connection).
 */
export type ConnectionEvent = ClosedEvent | ErrorEvent | ReconnectingEvent | ReconnectedEvent | GapEvent;

/** The upstream connection closed for good (after close, or when retries are exhausted). */
export interface ClosedEvent {
  readonly kind: 'closed';
  readonly connectionId: number;
  /** WebSocket close code (1000..4999), or 1006 when the socket dropped without one. */
  readonly code: number;
  readonly reason: string;
}

/** Something went wrong on the connection; `code` is from `DaemonErrorCode` (or a newer daemon's). */
export interface ErrorEvent {
  readonly kind: 'error';
  readonly connectionId: number;
  readonly code: string;
  readonly message: string;
  /**
   * The vendor's own code behind it (Alpaca 402/406, HTTP 429, ...), when there is one. Protocol version 3: sent as
   * event kind 6; a daemon leaves it out for an older client.
   */
  readonly vendorCode?: number;
}

/** The upstream dropped; the daemon will retry after `delayMs` (attempt counts from 1). */
export interface ReconnectingEvent {
  readonly kind: 'reconnecting';
  readonly connectionId: number;
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
}

/** The upstream is back (authenticated and resubscribed); upstream data sent while it was down is lost. */
export interface ReconnectedEvent {
  readonly kind: 'reconnected';
  readonly connectionId: number;
  readonly attempt: number;
  readonly downtimeMs: number;
}

/** This reader lost records (it was lapped in the ring, or the daemon dropped them for it). */
export interface GapEvent {
  readonly kind: 'gap';
  readonly connectionId: number;
  readonly lostMessages: number;
  readonly lostBytes: number;
}

export type ConnectionEventKind = ConnectionEvent['kind'];

/** Wire values of the event kind byte. */
export const EventKindCode = {
  closed: 1,
  error: 2,
  reconnecting: 3,
  reconnected: 4,
  gap: 5,
} as const satisfies Record<ConnectionEventKind, number>;

/**
 * Wire value of an `error` event that carries a vendor code (protocol version 3): the `error` layout followed by
 * `u32 vendorCode`. A separate kind rather than a trailing field, because older decoders refuse trailing bytes.
 */
export const ERROR_WITH_VENDOR_CODE_KIND = 6;

/** True when an error carries a vendor code to put on the wire (anything but a u32 is refused). */
export function hasVendorCode(vendorCode: unknown): vendorCode is number {
  if (vendorCode === undefined) return false;
  if (
    typeof vendorCode !== 'number' ||
    !Number.isInteger(vendorCode) ||
    vendorCode < 0 ||
    vendorCode > 0xffff_ffff
  )
    throw new InvalidArgumentError(
      `vendorCode must be an integer from 0 to 4294967295; got ${String(vendorCode)}`,
    );
  return true;
}

/** Writes an event body (kind byte and fields, without the connection id: each carrier places that itself). */
/** Events come from callers' code: anything but an object is refused with a typed error before a field is read. */
export function assertEventObject(event: unknown): asserts event is ConnectionEvent {
  if (typeof event !== 'object' || event === null) throw new InvalidArgumentError('event must be an object');
}

export function writeEventBody(w: Writer, event: ConnectionEvent, limits: ProtocolLimits): void {
  const max = limits.maxStringBytes;
  switch (event.kind) {
    case 'closed':
      w.u8(EventKindCode.closed, 'kind');
      w.u16(event.code, 'code');
      w.str16(event.reason, max, 'reason');
      return;
    case 'error': {
      const withVendor = hasVendorCode(event.vendorCode);
      w.u8(withVendor ? ERROR_WITH_VENDOR_CODE_KIND : EventKindCode.error, 'kind');
      w.str16(event.code, max, 'code');
      w.str16(event.message, max, 'message');
      if (withVendor) w.u32(event.vendorCode as number, 'vendorCode');
      return;
    }
    case 'reconnecting':
      w.u8(EventKindCode.reconnecting, 'kind');
      w.u32(event.attempt, 'attempt');
      w.u32(event.delayMs, 'delayMs');
      w.str16(event.reason, max, 'reason');
      return;
    case 'reconnected':
      w.u8(EventKindCode.reconnected, 'kind');
      w.u32(event.attempt, 'attempt');
      w.u32(event.downtimeMs, 'downtimeMs');
      return;
    case 'gap':
      w.u8(EventKindCode.gap, 'kind');
      w.u53(event.lostMessages, 'lostMessages');
      w.u53(event.lostBytes, 'lostBytes');
      return;
    default:
      throw new InvalidArgumentError(`unknown event kind ${String((event as { kind: unknown }).kind)}`);
  }
}

/** Reads an event body; the caller has read (or knows) the connection id. */
export function readEventBody(r: Reader, connectionId: number, limits: ProtocolLimits): ConnectionEvent {
  const max = limits.maxStringBytes;
  const kind = r.u8('event kind');
  switch (kind) {
    case EventKindCode.closed: {
      const code = r.u16('code');
      return { kind: 'closed', connectionId, code, reason: r.str16(max, 'reason') };
    }
    case EventKindCode.error:
    case ERROR_WITH_VENDOR_CODE_KIND: {
      const code = r.str16(max, 'code');
      const message = r.str16(max, 'message');
      if (kind === EventKindCode.error) return { kind: 'error', connectionId, code, message };
      return { kind: 'error', connectionId, code, message, vendorCode: r.u32('vendorCode') };
    }
    case EventKindCode.reconnecting: {
      const attempt = r.u32('attempt');
      const delayMs = r.u32('delayMs');
      return { kind: 'reconnecting', connectionId, attempt, delayMs, reason: r.str16(max, 'reason') };
    }
    case EventKindCode.reconnected: {
      const attempt = r.u32('attempt');
      return { kind: 'reconnected', connectionId, attempt, downtimeMs: r.u32('downtimeMs') };
    }
    case EventKindCode.gap: {
      const lostMessages = r.u53('lostMessages');
      return { kind: 'gap', connectionId, lostMessages, lostBytes: r.u53('lostBytes') };
    }
    default:
      throw new UnknownTypeError('event', kind);
  }
}
