// Encoding and decoding of the few messages the adapter builds or reads itself (control messages, synthetic
// snapshots). Data items are never decoded on the routing path.

import { decode, ExtData, ExtensionCodec, encode } from '@msgpack/msgpack';
import type { Encoding } from './feeds.js';

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
  return nsec === 0 ? `${base}Z` : `${base}.${String(nsec).padStart(9, '0')}Z`;
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

/** Decodes a frame for application code: msgpack timestamps become RFC-3339 strings. */
export function decodeForClient(bytes: Uint8Array | string, isBinary: boolean): unknown {
  if (typeof bytes === 'string') return JSON.parse(bytes);
  if (!isBinary || looksLikeJson(bytes)) {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString());
  }
  return decode(bytes, { extensionCodec: isoTimestampCodec });
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

/** RFC-3339 (nanoseconds allowed) -> msgpack timestamp extension (type -1), as Alpaca sends `t` in msgpack. */
export function isoToTimestampExt(iso: string): ExtData | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const sec = ms / 1000;
  const nsec = Number((m[2] ?? '').padEnd(9, '0') || '0');
  const data = new Uint8Array(12);
  const view = new DataView(data.buffer);
  view.setUint32(0, nsec);
  view.setBigInt64(4, BigInt(sec));
  return new ExtData(-1, data);
}
