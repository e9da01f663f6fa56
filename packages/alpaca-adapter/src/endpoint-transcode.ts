// Endpoint clients choose their encoding per connection (the upgrade's Content-Type), but the shared session
// delivers data in the upstream's encoding. These convert a whole frame when the two differ, into exactly what
// Alpaca itself would have sent in the other encoding: every number exact (64-bit ids included), in msgpack `T`
// first, fixed-width integers, float64 prices and every timestamp field as extension -1 (alpaca-msgpack.ts); in
// JSON, RFC-3339 timestamps with nanoseconds and `<>&` escaped as Go does (lossless-json.ts).

import { encodeAlpacaMsgpack } from './alpaca-msgpack.js';
import type { Encoding, FeedKind } from './feeds.js';
import { stringifyAlpacaJson } from './lossless-json.js';
import { decodeLossless } from './wire.js';

/**
 * One frame in `to`, from a frame whose encoding is `from` (returned unchanged when they are the same). `kind` is
 * the feed the frame comes from: it decides each field's msgpack width (a crypto size is a float64, a stock size a
 * uint32).
 */
export function transcodeFrame(data: Uint8Array, from: Encoding, to: Encoding, kind: FeedKind): Uint8Array {
  if (from === to) return data;
  const decoded = decodeLossless(data, from === 'msgpack');
  const messages = Array.isArray(decoded) ? decoded : [decoded];
  if (to === 'json') return Buffer.from(stringifyAlpacaJson(messages));
  return encodeAlpacaMsgpack(messages, kind);
}
