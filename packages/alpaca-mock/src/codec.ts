/**
 * Wire encodings. JSON goes out as text frames; msgpack as binary frames with the timestamp extension for every
 * time value. Objects are built with `T` as their first key and msgpack keeps insertion order, which the Go SDK
 * needs (its decoder rejects a map whose first key is not "T").
 */
import {
  decodeTimestampToTimeSpec,
  EXT_TIMESTAMP,
  ExtensionCodec,
  encodeTimeSpecToTimestamp,
  encodeTimestampExtension,
  decode as msgpackDecode,
  encode as msgpackEncode,
} from '@msgpack/msgpack';
import type { AssetClass } from './endpoints.js';
import { FrameDecodeError } from './errors.js';
import { encodeGoMsgpack } from './go-msgpack.js';
import { NanoTime } from './time.js';

export type Encoding = 'json' | 'msgpack';

const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: EXT_TIMESTAMP,
  encode(value: unknown): Uint8Array | null {
    if (value instanceof NanoTime) return encodeTimeSpecToTimestamp({ sec: value.sec, nsec: value.nsec });
    if (value instanceof Date) return encodeTimestampExtension(value);
    return null;
  },
  decode(data: Uint8Array): NanoTime {
    const spec = decodeTimestampToTimeSpec(data);
    return new NanoTime(spec.sec, spec.nsec);
  },
});

const GO_HTML_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * JSON as Alpaca's Go encoder writes it: 64-bit ids (bigint) as their exact digits, and `<`, `>`, `&` (which only
 * ever appear inside strings) escaped as `\u003c`, `\u003e`, `\u0026`.
 */
export function alpacaJson(payload: unknown): string {
  const text = JSON.stringify(payload, (_key, value: unknown) =>
    typeof value === 'bigint' ? `\u0000bigint:${value}` : value,
  );
  return text
    .replace(/"\\u0000bigint:(-?\d+)"/g, '$1')
    .replace(/[<>&\u2028\u2029]/g, (c) => GO_HTML_ESCAPES[c] as string);
}

/**
 * Encodes one frame: an array of messages (market data) or a single object (account stream). With `assetClass`,
 * msgpack numbers get the fixed widths of Alpaca's Go types (go-msgpack.ts), as the real feeds have them.
 */
export function encodeFrame(payload: unknown, encoding: Encoding, assetClass?: AssetClass): string | Buffer {
  if (encoding === 'json') return alpacaJson(payload);
  if (assetClass && Array.isArray(payload)) return encodeGoMsgpack(payload, assetClass, encodeMsgpack);
  // bigint ids go out as 64-bit integers, as Alpaca's are.
  const bytes = msgpackEncode(payload, { extensionCodec, ignoreUndefined: true, useBigInt64: true });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Decodes a frame the way a client of the mock would: msgpack timestamps become `NanoTime` (exact nanoseconds),
 * JSON timestamps stay strings. Exported so tests can decode what they receive with full precision. Bytes that are
 * not one valid value throw `FrameDecodeError` (`ALPACA_MOCK_ERR_DECODE`).
 */
export function decodeFrame(data: string | Uint8Array | ArrayBuffer | Buffer[], encoding: Encoding): unknown {
  const bytes = toBytes(data);
  const json = encoding === 'json' || typeof bytes === 'string';
  try {
    if (json) return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
    return msgpackDecode(bytes, { extensionCodec });
  } catch (error) {
    throw new FrameDecodeError(json ? 'json' : 'msgpack', error);
  }
}

function toBytes(data: string | Uint8Array | ArrayBuffer | Buffer[]): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

/** Encodes a client message in msgpack, as the official SDKs do (exported for tests and tools). */
export function encodeMsgpack(value: unknown): Uint8Array {
  return msgpackEncode(value, { extensionCodec, ignoreUndefined: true, useBigInt64: true });
}
