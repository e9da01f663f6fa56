// Encoding and decoding of the few messages the adapter builds or reads itself (control messages, synthetic
// snapshots). Data items are never decoded on the routing path.

import { decode, ExtData, ExtensionCodec, encode } from '@msgpack/msgpack';
import type { Encoding } from './feeds.js';
import { ID_FIELDS } from './item-schema.js';
import { parseJsonLossless } from './lossless-json.js';

/**
 * Keeps msgpack timestamps (extension -1) as raw ExtData, so a decoded-then-re-encoded message carries exactly the
 * nanoseconds Alpaca sent.
 */
const rawTimestampCodec = new ExtensionCodec();
rawTimestampCodec.register({
  type: -1,
  encode: () => null,
  decode: (data) => new ExtData(-1, data),
});

/**
 * Turns msgpack timestamps into RFC-3339 strings with nanoseconds, so a client sees the same `t` whatever the
 * upstream encoding.
 */
const isoTimestampCodec = new ExtensionCodec();
isoTimestampCodec.register({
  type: -1,
  encode: () => null,
  decode: (data) => timestampToIso(data),
});

export function timestampToIso(data: Uint8Array): string {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let sec: number;
  let nsec: number;
  if (data.byteLength === 4) {
    sec = view.getUint32(0);
    nsec = 0;
  } else if (data.byteLength === 8) {
    const hi = view.getUint32(0);
    const lo = view.getUint32(4);
    nsec = hi >>> 2;
    sec = (hi & 0x3) * 2 ** 32 + lo;
  } else if (data.byteLength === 12) {
    nsec = view.getUint32(0);
    sec = Number(view.getBigInt64(4));
  } else {
    return '';
  }
  const base = new Date(sec * 1000).toISOString().slice(0, 19);
  // Go's RFC3339Nano, as Alpaca writes its JSON: trailing zeros of the fraction dropped ("…44.208Z").
  return nsec === 0 ? `${base}Z` : `${base}.${String(nsec).padStart(9, '0').replace(/0+$/, '')}Z`;
}

/** Encodes one frame (an array of messages) in the given encoding. */
export function encodeFrame(messages: readonly unknown[], encoding: Encoding): Uint8Array {
  if (encoding === 'json') return Buffer.from(JSON.stringify(messages));
  return encode(messages, { extensionCodec: rawTimestampCodec });
}

/** Decodes a frame or a single message, keeping msgpack timestamps as raw extension data. */
export function decodeRaw(bytes: Uint8Array, encoding: Encoding): unknown {
  if (encoding === 'json')
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString());
  return decode(bytes, { extensionCodec: rawTimestampCodec });
}

/**
 * Decodes a frame with every number exact: msgpack timestamps become RFC-3339 strings (as Alpaca writes them in
 * JSON), and integers a double cannot hold exactly (64-bit ids) become `bigint` in both encodings. Other integers
 * stay plain numbers, so the same item decodes to the same values whichever encoding carried it.
 */
export function decodeLossless(bytes: Uint8Array | string, isBinary: boolean): unknown {
  if (typeof bytes === 'string') return parseJsonLossless(bytes);
  if (!isBinary || looksLikeJson(bytes)) {
    return parseJsonLossless(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString());
  }
  return narrowSafeIntegers(decode(bytes, { extensionCodec: isoTimestampCodec, useBigInt64: true }));
}

/** msgpack's int64/uint64 all decode as bigint: those a double holds exactly go back to numbers. */
function narrowSafeIntegers(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) value[k] = narrowSafeIntegers(value[k]);
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = narrowSafeIntegers(record[key]);
  }
  return value;
}

/**
 * Decodes a frame for application code (AlpacaStream): exact like decodeLossless, and every id field (`i` of
 * trades and cancel/errors, `oi`/`ci` of corrections, `id` of news) a `bigint` whatever its size, so its type does
 * not depend on the value.
 */
export function decodeForClient(bytes: Uint8Array | string, isBinary: boolean): unknown {
  const decoded = decodeLossless(bytes, isBinary);
  for (const item of Array.isArray(decoded) ? decoded : [decoded]) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    const ids = typeof record.T === 'string' ? ID_FIELDS[record.T] : undefined;
    if (!ids) continue;
    for (const key of ids) {
      const v = record[key];
      if (typeof v === 'number' && Number.isInteger(v)) record[key] = BigInt(v);
    }
  }
  return decoded;
}

/**
 * Alpaca's paper account stream sends JSON inside binary frames, and a drop-in client may do the same: a binary
 * payload starting with `[` or `{` is JSON (neither byte starts a msgpack array or map).
 */
export function looksLikeJson(bytes: Uint8Array): boolean {
  let i = 0;
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
  )
    i++;
  return bytes[i] === 0x5b || bytes[i] === 0x7b;
}

/**
 * RFC-3339 (nanoseconds allowed) -> msgpack timestamp extension (type -1), as Alpaca sends timestamps in msgpack:
 * the smallest of the spec's three forms that holds the value (32-bit seconds; 30-bit nanoseconds + 34-bit
 * seconds; 32-bit nanoseconds + 64-bit seconds), which is what Go's vmihailenco/msgpack writes.
 */
export function isoToTimestampExt(iso: string): ExtData | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const sec = ms / 1000;
  const nsec = Number((m[2] ?? '').padEnd(9, '0') || '0');
  if (sec >= 0 && sec < 2 ** 34) {
    if (nsec === 0 && sec < 2 ** 32) {
      const data = new Uint8Array(4);
      new DataView(data.buffer).setUint32(0, sec);
      return new ExtData(-1, data);
    }
    const data = new Uint8Array(8);
    const view = new DataView(data.buffer);
    view.setUint32(0, nsec * 4 + Math.floor(sec / 2 ** 32));
    view.setUint32(4, sec % 2 ** 32);
    return new ExtData(-1, data);
  }
  const data = new Uint8Array(12);
  const view = new DataView(data.buffer);
  view.setUint32(0, nsec);
  view.setBigInt64(4, BigInt(sec));
  return new ExtData(-1, data);
}
