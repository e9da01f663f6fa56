import { InvalidArgumentError, MalformedFrameError, OverLimitError, UnknownTypeError } from '../errors.js';
import {
  assertEventObject,
  type ConnectionEvent,
  hasVendorCode,
  readEventBody,
  writeEventBody,
} from '../events.js';
import { DEFAULT_LIMITS, type ProtocolLimits } from '../limits.js';
import { parseStatus } from '../status.js';
import { writeU32 } from '../wire/bytes.js';
import { Reader } from '../wire/reader.js';
import { readUtf8, utf8Length } from '../wire/utf8.js';
import { Writer } from '../wire/writer.js';
import {
  ERROR_WITH_VENDOR_CODE_TYPE,
  FRAME_HEADER_BYTES,
  FRAME_MARK,
  HELLO_MAGIC,
  LOG_LEVELS,
  LogLevelCode,
  MessageTypeCode,
  OPEN_WITH_MODULE_TYPE,
  SUBSCRIBED_WITH_STATE_TYPE,
  UNSUBSCRIBED_WITH_STATE_TYPE,
} from './constants.js';
import type { ControlMessage, Header, LogLevel } from './messages.js';

const statusEncoder = new TextEncoder();

// ---- encode ------------------------------------------------------------------------------------------------------

/**
 * Encodes `message` as a complete control frame (lead byte, length, body) into `target` at `offset`.
 * Returns the bytes written. Throws `BufferTooSmallError` when `target` cannot hold it (nothing useful is left in
 * `target` then), `OverLimitError` / `BadUtf8Error` / `InvalidArgumentError` for values the peer would refuse.
 */
export function encodeControlFrameInto(
  target: Uint8Array,
  offset: number,
  message: ControlMessage,
  limits: ProtocolLimits = DEFAULT_LIMITS,
): number {
  const w = new Writer(target, offset);
  w.ensure(FRAME_HEADER_BYTES);
  target[offset] = FRAME_MARK;
  w.pos = offset + FRAME_HEADER_BYTES;
  writeBody(w, message, limits);
  const bodyLength = w.pos - offset - FRAME_HEADER_BYTES;
  if (bodyLength > limits.maxFrameBytes)
    throw new OverLimitError('maxFrameBytes', bodyLength, limits.maxFrameBytes);
  writeU32(target, offset + 1, bodyLength);
  return w.pos - offset;
}

/** Encodes `message` as a complete control frame into a new buffer of exactly the right size. */
export function encodeControlFrame(
  message: ControlMessage,
  limits: ProtocolLimits = DEFAULT_LIMITS,
): Uint8Array {
  const out = new Uint8Array(controlFrameLength(message));
  encodeControlFrameInto(out, 0, message, limits);
  return out;
}

/** Encodes only the body (type byte and fields) into `target`; for carriers with their own framing. */
export function encodeControlBodyInto(
  target: Uint8Array,
  offset: number,
  message: ControlMessage,
  limits: ProtocolLimits = DEFAULT_LIMITS,
): number {
  const w = new Writer(target, offset);
  writeBody(w, message, limits);
  return w.pos - offset;
}

function writeRequestId(w: Writer, requestId: number): void {
  w.u32(requestId, 'requestId');
}

function writeBody(w: Writer, m: ControlMessage, limits: ProtocolLimits): void {
  const maxStr = limits.maxStringBytes;
  switch (m.type) {
    case 'hello':
      w.u8(MessageTypeCode.hello, 'type');
      w.ensure(HELLO_MAGIC.length);
      w.buf.set(HELLO_MAGIC, w.pos);
      w.pos += HELLO_MAGIC.length;
      w.u16(m.minVersion, 'minVersion');
      w.u16(m.maxVersion, 'maxVersion');
      w.u32(m.clientPid, 'clientPid');
      w.str16(m.clientName, maxStr, 'clientName');
      return;
    case 'welcome':
      w.u8(MessageTypeCode.welcome, 'type');
      w.u16(m.version, 'version');
      w.u32(m.clientId, 'clientId');
      w.u32(m.daemonPid, 'daemonPid');
      w.u16(m.readerSlot, 'readerSlot');
      if (m.readerSlot >= limits.maxReaderSlots) {
        throw new OverLimitError('maxReaderSlots', m.readerSlot + 1, limits.maxReaderSlots);
      }
      w.str16(m.daemonVersion, maxStr, 'daemonVersion');
      w.str16(m.ringName, maxStr, 'ringName');
      return;
    case 'refused':
      w.u8(MessageTypeCode.refused, 'type');
      w.u16(m.minVersion, 'minVersion');
      w.u16(m.maxVersion, 'maxVersion');
      w.str16(m.code, maxStr, 'code');
      w.str16(m.message, maxStr, 'message');
      return;
    case 'open': {
      const withModule = hasAdapterModule(m.adapterModule);
      w.u8(withModule ? OPEN_WITH_MODULE_TYPE : MessageTypeCode.open, 'type');
      writeRequestId(w, m.requestId);
      w.str16(m.url, limits.maxUrlBytes, 'url', 'maxUrlBytes');
      w.str16(m.adapter, maxStr, 'adapter');
      writeHeaders(w, m.headers, limits);
      if (m.credentials === null) {
        w.u8(0, 'credentials');
      } else {
        w.u8(1, 'credentials');
        w.str16(m.credentials.key, maxStr, 'credentials.key');
        w.str16(m.credentials.secret, maxStr, 'credentials.secret');
      }
      if (withModule) w.str16(m.adapterModule as string, maxStr, 'adapterModule');
      return;
    }
    case 'close': {
      w.u8(MessageTypeCode.close, 'type');
      writeRequestId(w, m.requestId);
      // Connection ids are never 0, so 0 stands for "all of mine".
      if (m.connectionId === 'all') w.u32(0, 'connectionId');
      else writeConnectionId(w, m.connectionId);
      return;
    }
    case 'send':
      w.u8(MessageTypeCode.send, 'type');
      writeRequestId(w, m.requestId);
      writeConnectionId(w, m.connectionId);
      w.bool(m.binary);
      w.bytes32(m.payload, limits.maxPayloadBytes, 'maxPayloadBytes', 'payload');
      return;
    case 'subscribe':
    case 'unsubscribe':
      w.u8(MessageTypeCode[m.type], 'type');
      writeRequestId(w, m.requestId);
      writeConnectionId(w, m.connectionId);
      w.bytes32(m.params, limits.maxParamsBytes, 'maxParamsBytes', 'params');
      return;
    case 'restore':
      w.u8(MessageTypeCode.restore, 'type');
      writeRequestId(w, m.requestId);
      writeConnectionId(w, m.connectionId);
      w.bytes32(m.state, limits.maxParamsBytes, 'maxParamsBytes', 'state');
      return;
    case 'setLogLevel': {
      w.u8(MessageTypeCode.setLogLevel, 'type');
      writeRequestId(w, m.requestId);
      const code = LogLevelCode[m.level];
      if (code === undefined) throw new InvalidArgumentError(`unknown log level ${String(m.level)}`);
      w.u8(code, 'level');
      return;
    }
    case 'status':
    case 'ok':
      w.u8(MessageTypeCode[m.type], 'type');
      writeRequestId(w, m.requestId);
      return;
    case 'error': {
      const withVendor = hasVendorCode(m.vendorCode);
      w.u8(withVendor ? ERROR_WITH_VENDOR_CODE_TYPE : MessageTypeCode.error, 'type');
      writeRequestId(w, m.requestId);
      w.str16(m.code, maxStr, 'code');
      w.str16(m.message, maxStr, 'message');
      if (withVendor) w.u32(m.vendorCode as number, 'vendorCode');
      return;
    }
    case 'opened':
      w.u8(MessageTypeCode.opened, 'type');
      writeRequestId(w, m.requestId);
      writeConnectionId(w, m.connectionId);
      w.bool(m.isNew);
      return;
    case 'subscribed':
    case 'unsubscribed': {
      const withState = hasState(m.state);
      const subscribed = m.type === 'subscribed';
      const plain = MessageTypeCode[m.type];
      w.u8(
        withState ? (subscribed ? SUBSCRIBED_WITH_STATE_TYPE : UNSUBSCRIBED_WITH_STATE_TYPE) : plain,
        'type',
      );
      writeRequestId(w, m.requestId);
      w.bool(m.type === 'subscribed' ? m.alreadySubscribed : m.stillSubscribed);
      w.bytes32(m.reply, limits.maxParamsBytes, 'maxParamsBytes', 'reply');
      if (withState) w.bytes32(m.state as Uint8Array, limits.maxParamsBytes, 'maxParamsBytes', 'state');
      return;
    }
    case 'statusReport': {
      w.u8(MessageTypeCode.statusReport, 'type');
      writeRequestId(w, m.requestId);
      const json = statusJson(m.status);
      w.bytes32(statusEncoder.encode(json), limits.maxStatusBytes, 'maxStatusBytes', 'status');
      return;
    }
    case 'event':
      assertEventObject(m.event);
      w.u8(MessageTypeCode.event, 'type');
      w.u32(m.event.connectionId, 'connectionId');
      writeEventBody(w, m.event, limits);
      return;
    default:
      throw new InvalidArgumentError(`unknown control message type ${String((m as { type: unknown }).type)}`);
  }
}

function statusJson(status: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(status);
  } catch {
    // A BigInt or a cycle: JSON.stringify's TypeError would be the one untyped failure of the encoder.
  }
  if (typeof json !== 'string' || utf8Length(json) < 0) {
    throw new InvalidArgumentError('status must be a JSON-serialisable object');
  }
  return json;
}

/** `''` and absent mean the same (no module): such an open is encoded as a plain version-1 `open`. */
function hasAdapterModule(adapterModule: unknown): boolean {
  if (adapterModule === undefined || adapterModule === '') return false;
  if (typeof adapterModule !== 'string') throw new InvalidArgumentError('adapterModule must be a string');
  return true;
}

/** Absent means "this daemon or adapter keeps no state": encoded as the version-1 answer. */
function hasState(state: unknown): boolean {
  if (state === undefined) return false;
  if (!(state instanceof Uint8Array)) throw new InvalidArgumentError('state must be a Uint8Array');
  return true;
}

function writeConnectionId(w: Writer, id: number): void {
  if (id === 0) throw new InvalidArgumentError('connectionId 0 is reserved');
  w.u32(id, 'connectionId');
}

function writeHeaders(w: Writer, headers: readonly Header[], limits: ProtocolLimits): void {
  if (!Array.isArray(headers))
    throw new InvalidArgumentError('headers must be an array of [name, value] pairs');
  if (headers.length > limits.maxHeaderCount) {
    throw new OverLimitError('maxHeaderCount', headers.length, limits.maxHeaderCount);
  }
  w.u16(headers.length, 'header count');
  let total = 0;
  for (const header of headers) {
    if (!Array.isArray(header) || header.length !== 2) {
      throw new InvalidArgumentError('each header must be a [name, value] pair');
    }
    // Each part is bounded by the group limit (and the u16 prefix), then the running sum is checked.
    const max = Math.min(limits.maxHeaderBytes, 0xffff);
    total += w.str16(header[0], max, 'header name', 'maxHeaderBytes');
    total += w.str16(header[1], max, 'header value', 'maxHeaderBytes');
    if (total > limits.maxHeaderBytes)
      throw new OverLimitError('maxHeaderBytes', total, limits.maxHeaderBytes);
  }
}

/** Exact encoded size of `message` as a frame (header included), without encoding it. */
export function controlFrameLength(message: ControlMessage): number {
  return FRAME_HEADER_BYTES + controlBodyLength(message);
}

function str(s: string): number {
  const n = typeof s === 'string' ? utf8Length(s) : 0;
  return 2 + Math.max(n, 0);
}

function bytes(b: Uint8Array): number {
  return 4 + (b instanceof Uint8Array ? b.length : 0);
}

/** Exact size of the body (type byte and fields). Invalid values are caught by the encoder, not here. */
export function controlBodyLength(m: ControlMessage): number {
  switch (m.type) {
    case 'hello':
      return 1 + 4 + 2 + 2 + 4 + str(m.clientName);
    case 'welcome':
      return 1 + 2 + 4 + 4 + 2 + str(m.daemonVersion) + str(m.ringName);
    case 'refused':
      return 1 + 2 + 2 + str(m.code) + str(m.message);
    case 'open': {
      let n = 1 + 4 + str(m.url) + str(m.adapter) + 2 + 1;
      // Sizing never throws on bad values: the encoder refuses them with a typed error.
      if (Array.isArray(m.headers))
        for (const h of m.headers) if (Array.isArray(h)) n += str(h[0]) + str(h[1]);
      if (m.credentials) n += str(m.credentials.key) + str(m.credentials.secret);
      if (typeof m.adapterModule === 'string' && m.adapterModule !== '') n += str(m.adapterModule);
      return n;
    }
    case 'close':
      return 1 + 4 + 4;
    case 'send':
      return 1 + 4 + 4 + 1 + bytes(m.payload);
    case 'subscribe':
    case 'unsubscribe':
      return 1 + 4 + 4 + bytes(m.params);
    case 'restore':
      return 1 + 4 + 4 + bytes(m.state);
    case 'setLogLevel':
      return 1 + 4 + 1;
    case 'status':
    case 'ok':
      return 1 + 4;
    case 'error':
      return 1 + 4 + str(m.code) + str(m.message) + (hasVendorCode(m.vendorCode) ? 4 : 0);
    case 'opened':
      return 1 + 4 + 4 + 1;
    case 'subscribed':
    case 'unsubscribed':
      return 1 + 4 + 1 + bytes(m.reply) + (m.state instanceof Uint8Array ? bytes(m.state) : 0);
    case 'statusReport':
      return 1 + 4 + 4 + utf8Length(statusJson(m.status));
    case 'event':
      return 1 + 4 + eventBodyLength(m.event);
    default:
      throw new InvalidArgumentError(`unknown control message type ${String((m as { type: unknown }).type)}`);
  }
}

export function eventBodyLength(e: ConnectionEvent): number {
  assertEventObject(e);
  switch (e.kind) {
    case 'closed':
      return 1 + 2 + str(e.reason);
    case 'error':
      return 1 + str(e.code) + str(e.message) + (hasVendorCode(e.vendorCode) ? 4 : 0);
    case 'reconnecting':
      return 1 + 4 + 4 + str(e.reason);
    case 'reconnected':
      return 1 + 4 + 4;
    case 'gap':
      return 1 + 8 + 8;
    default:
      throw new InvalidArgumentError(`unknown event kind ${String((e as { kind: unknown }).kind)}`);
  }
}

// ---- decode ------------------------------------------------------------------------------------------------------

/**
 * Decodes one complete frame (lead byte, length, body — nothing before or after). For a byte stream use
 * `ControlStreamDecoder`, which also handles doorbells and partial reads.
 */
export function decodeControlFrame(
  frame: Uint8Array,
  limits: ProtocolLimits = DEFAULT_LIMITS,
): ControlMessage {
  const r = new Reader(frame, 0, frame.length, 'control frame');
  const lead = r.u8('lead byte');
  if (lead !== FRAME_MARK) {
    throw new MalformedFrameError(
      `control frame must start with 0x57, got 0x${lead.toString(16).padStart(2, '0')}`,
    );
  }
  const length = r.u32('body length');
  if (length > limits.maxFrameBytes) throw new OverLimitError('maxFrameBytes', length, limits.maxFrameBytes);
  r.need(length, 'body');
  if (FRAME_HEADER_BYTES + length !== frame.length) {
    throw new MalformedFrameError(
      `control frame: ${frame.length - FRAME_HEADER_BYTES - length} trailing bytes`,
    );
  }
  return decodeControlBody(frame.subarray(FRAME_HEADER_BYTES), limits);
}

/**
 * Decodes a frame body (type byte and fields). Byte fields (`payload`, `params`, `reply`) are views into `body`:
 * copy them if `body`'s memory will be reused.
 */
export function decodeControlBody(body: Uint8Array, limits: ProtocolLimits = DEFAULT_LIMITS): ControlMessage {
  if (body.length > limits.maxFrameBytes)
    throw new OverLimitError('maxFrameBytes', body.length, limits.maxFrameBytes);
  const r = new Reader(body, 0, body.length, 'control frame');
  const type = r.u8('type');
  const maxStr = limits.maxStringBytes;
  let m: ControlMessage;
  switch (type) {
    case MessageTypeCode.hello: {
      r.what = 'hello';
      r.need(HELLO_MAGIC.length, 'magic');
      for (let i = 0; i < HELLO_MAGIC.length; i++) {
        if (body[r.pos + i] !== HELLO_MAGIC[i])
          throw new MalformedFrameError('hello: bad magic (not a wsproxy client)');
      }
      r.pos += HELLO_MAGIC.length;
      const minVersion = r.u16('minVersion');
      const maxVersion = r.u16('maxVersion');
      const clientPid = r.u32('clientPid');
      m = { type: 'hello', minVersion, maxVersion, clientPid, clientName: r.str16(maxStr, 'clientName') };
      break;
    }
    case MessageTypeCode.welcome: {
      r.what = 'welcome';
      const version = r.u16('version');
      const clientId = r.u32('clientId');
      const daemonPid = r.u32('daemonPid');
      const readerSlot = r.u16('readerSlot');
      if (readerSlot >= limits.maxReaderSlots) {
        throw new OverLimitError('maxReaderSlots', readerSlot + 1, limits.maxReaderSlots);
      }
      const daemonVersion = r.str16(maxStr, 'daemonVersion');
      const ringName = r.str16(maxStr, 'ringName');
      m = { type: 'welcome', version, clientId, daemonPid, daemonVersion, ringName, readerSlot };
      break;
    }
    case MessageTypeCode.refused: {
      r.what = 'refused';
      const minVersion = r.u16('minVersion');
      const maxVersion = r.u16('maxVersion');
      const code = r.str16(maxStr, 'code');
      m = { type: 'refused', code, message: r.str16(maxStr, 'message'), minVersion, maxVersion };
      break;
    }
    case MessageTypeCode.open:
    case OPEN_WITH_MODULE_TYPE: {
      r.what = 'open';
      const requestId = r.u32('requestId');
      const url = r.str16(limits.maxUrlBytes, 'url', 'maxUrlBytes');
      const adapter = r.str16(maxStr, 'adapter');
      const headers = readHeaders(r, limits);
      const hasCredentials = r.bool('credentials flag');
      let credentials = null;
      if (hasCredentials) {
        const key = r.str16(maxStr, 'credentials.key');
        credentials = { key, secret: r.str16(maxStr, 'credentials.secret') };
      }
      if (type === OPEN_WITH_MODULE_TYPE) {
        const adapterModule = r.str16(maxStr, 'adapterModule');
        // An encoder sends an open without a module as 0x10; an empty one here is not something a peer should send.
        if (adapterModule === '') throw new MalformedFrameError('open: empty adapterModule');
        m = { type: 'open', requestId, url, adapter, headers, credentials, adapterModule };
      } else {
        m = { type: 'open', requestId, url, adapter, headers, credentials };
      }
      break;
    }
    case MessageTypeCode.close: {
      r.what = 'close';
      const requestId = r.u32('requestId');
      const id = r.u32('connectionId');
      m = { type: 'close', requestId, connectionId: id === 0 ? 'all' : id };
      break;
    }
    case MessageTypeCode.send: {
      r.what = 'send';
      const requestId = r.u32('requestId');
      const connectionId = readConnectionId(r);
      const binary = r.bool('binary');
      const payload = r.bytes32(limits.maxPayloadBytes, 'maxPayloadBytes', 'payload');
      m = { type: 'send', requestId, connectionId, binary, payload };
      break;
    }
    case MessageTypeCode.subscribe:
    case MessageTypeCode.unsubscribe: {
      const kind = type === MessageTypeCode.subscribe ? 'subscribe' : 'unsubscribe';
      r.what = kind;
      const requestId = r.u32('requestId');
      const connectionId = readConnectionId(r);
      const params = r.bytes32(limits.maxParamsBytes, 'maxParamsBytes', 'params');
      m = { type: kind, requestId, connectionId, params };
      break;
    }
    case MessageTypeCode.restore: {
      r.what = 'restore';
      const requestId = r.u32('requestId');
      const connectionId = readConnectionId(r);
      const state = r.bytes32(limits.maxParamsBytes, 'maxParamsBytes', 'state');
      m = { type: 'restore', requestId, connectionId, state };
      break;
    }
    case MessageTypeCode.setLogLevel: {
      r.what = 'setLogLevel';
      const requestId = r.u32('requestId');
      const code = r.u8('level');
      const level: LogLevel | undefined = LOG_LEVELS[code - 1];
      if (level === undefined) throw new MalformedFrameError(`setLogLevel: unknown level ${code}`);
      m = { type: 'setLogLevel', requestId, level };
      break;
    }
    case MessageTypeCode.status:
    case MessageTypeCode.ok: {
      const kind = type === MessageTypeCode.status ? 'status' : 'ok';
      r.what = kind;
      m = { type: kind, requestId: r.u32('requestId') };
      break;
    }
    case MessageTypeCode.error:
    case ERROR_WITH_VENDOR_CODE_TYPE: {
      r.what = 'error';
      const requestId = r.u32('requestId');
      const code = r.str16(maxStr, 'code');
      const message = r.str16(maxStr, 'message');
      m =
        type === MessageTypeCode.error
          ? { type: 'error', requestId, code, message }
          : { type: 'error', requestId, code, message, vendorCode: r.u32('vendorCode') };
      break;
    }
    case MessageTypeCode.opened: {
      r.what = 'opened';
      const requestId = r.u32('requestId');
      const connectionId = readConnectionId(r);
      m = { type: 'opened', requestId, connectionId, isNew: r.bool('isNew') };
      break;
    }
    case MessageTypeCode.subscribed:
    case MessageTypeCode.unsubscribed:
    case SUBSCRIBED_WITH_STATE_TYPE:
    case UNSUBSCRIBED_WITH_STATE_TYPE: {
      // Same layout; only the flag's meaning differs (already subscribed before / still subscribed after).
      const subscribed = type === MessageTypeCode.subscribed || type === SUBSCRIBED_WITH_STATE_TYPE;
      r.what = subscribed ? 'subscribed' : 'unsubscribed';
      const requestId = r.u32('requestId');
      const flag = r.bool(subscribed ? 'alreadySubscribed' : 'stillSubscribed');
      const reply = r.bytes32(limits.maxParamsBytes, 'maxParamsBytes', 'reply');
      const withState = type === SUBSCRIBED_WITH_STATE_TYPE || type === UNSUBSCRIBED_WITH_STATE_TYPE;
      const state = withState ? { state: r.bytes32(limits.maxParamsBytes, 'maxParamsBytes', 'state') } : {};
      m = subscribed
        ? { type: 'subscribed', requestId, alreadySubscribed: flag, reply, ...state }
        : { type: 'unsubscribed', requestId, stillSubscribed: flag, reply, ...state };
      break;
    }
    case MessageTypeCode.statusReport: {
      r.what = 'statusReport';
      const requestId = r.u32('requestId');
      const json = r.bytes32(limits.maxStatusBytes, 'maxStatusBytes', 'status');
      const status = parseStatus(readUtf8(json, 0, json.length, 'statusReport status'));
      m = { type: 'statusReport', requestId, status };
      break;
    }
    case MessageTypeCode.event: {
      r.what = 'event';
      const connectionId = r.u32('connectionId');
      m = { type: 'event', event: readEventBody(r, connectionId, limits) };
      break;
    }
    default:
      throw new UnknownTypeError('control message', type);
  }
  r.finish();
  return m;
}

function readConnectionId(r: Reader): number {
  const id = r.u32('connectionId');
  if (id === 0) throw new MalformedFrameError(`${r.what}: connectionId 0 is reserved`);
  return id;
}

function readHeaders(r: Reader, limits: ProtocolLimits): Header[] {
  const count = r.u16('header count');
  if (count > limits.maxHeaderCount) throw new OverLimitError('maxHeaderCount', count, limits.maxHeaderCount);
  // Grown as headers are actually read: a claimed count never pre-sizes anything.
  const headers: Header[] = [];
  let total = 0;
  const max = Math.min(limits.maxHeaderBytes, 0xffff);
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    const name = r.str16(max, 'header name', 'maxHeaderBytes');
    const value = r.str16(max, 'header value', 'maxHeaderBytes');
    total += r.pos - start - 4;
    if (total > limits.maxHeaderBytes)
      throw new OverLimitError('maxHeaderBytes', total, limits.maxHeaderBytes);
    headers.push([name, value]);
  }
  return headers;
}
