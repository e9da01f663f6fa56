// Endpoint clients choose their encoding per connection (the upgrade's Content-Type), but the shared session
// delivers data in the upstream's encoding. These convert a whole frame when the two differ, the way Alpaca itself
// would have encoded it: msgpack timestamps are the timestamp extension (type -1) and every map starts with `T`.

import type { Encoding } from './feeds.js';
import { decodeForClient, encodeFrame, isoToTimestampExt } from './wire.js';

/** Fields that carry a timestamp in Alpaca's market-data messages. */
const TIMESTAMP_FIELDS = new Set(['t']);

function toMsgpackShape(message: unknown): unknown {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return message;
  const source = message as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // The Go SDK's decoder rejects a map whose first key is not "T".
  if ('T' in source) out.T = source.T;
  for (const [key, value] of Object.entries(source)) {
    if (key === 'T') continue;
    out[key] =
      TIMESTAMP_FIELDS.has(key) && typeof value === 'string' ? (isoToTimestampExt(value) ?? value) : value;
  }
  return out;
}

/** One frame in `to`, from a frame whose encoding is `from` (returned unchanged when they are the same). */
export function transcodeFrame(data: Uint8Array, from: Encoding, to: Encoding): Uint8Array {
  if (from === to) return data;
  const decoded = decodeForClient(data, from === 'msgpack');
  const messages = Array.isArray(decoded) ? decoded : [decoded];
  if (to === 'json') return Buffer.from(JSON.stringify(messages));
  return encodeFrame(messages.map(toMsgpackShape), 'msgpack');
}
