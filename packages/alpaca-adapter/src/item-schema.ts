// What each field of Alpaca's data items is on the wire, for the two places that must know more than `T` and `S`:
// transcoding (msgpack writes each field in the fixed width of its Go type, and timestamps as extension -1) and
// AlpacaStream's decoding (ids are exposed as bigint). Taken from the official Go SDK's stream entities and the
// structs its tests encode with vmihailenco/msgpack — the same encoder family Alpaca's server uses.

import type { FeedKind } from './feeds.js';

/** How a numeric field is written in msgpack: the fixed width of its Go type. */
export type NumberWidth = 'int64' | 'uint32' | 'uint64' | 'float64';

/**
 * Fields Alpaca sends as timestamps (msgpack extension -1; RFC-3339 strings in JSON), whatever the item type: `t`
 * everywhere, the receive time `r` of trades and quotes, news `created_at`/`updated_at`, and the perps feed's next
 * funding time `ft`. (An orderbook's `r` is a boolean, so only strings and extensions are ever converted.)
 */
export const TIMESTAMP_FIELDS: ReadonlySet<string> = new Set(['t', 'r', 'created_at', 'updated_at', 'ft']);

/** Item fields that are ids: 64-bit integers, exposed by AlpacaStream as `bigint`. */
export const ID_FIELDS: Readonly<Record<string, readonly string[]>> = {
  t: ['i'],
  x: ['i'],
  c: ['oi', 'ci'],
  n: ['id'],
};

type Widths = Readonly<Record<string, NumberWidth>>;

const F = 'float64';
const STOCK_BAR: Widths = { o: F, h: F, l: F, c: F, v: 'uint64', n: 'uint64', vw: F };
const CRYPTO_BAR: Widths = { o: F, h: F, l: F, c: F, v: F, n: 'uint64', vw: F };
const CRYPTO: Readonly<Record<string, Widths>> = {
  t: { i: 'int64', p: F, s: F },
  q: { bp: F, bs: F, ap: F, as: F },
  b: CRYPTO_BAR,
  d: CRYPTO_BAR,
  u: CRYPTO_BAR,
};

const WIDTHS: Readonly<Record<FeedKind, Readonly<Record<string, Widths>>>> = {
  stocks: {
    t: { i: 'int64', p: F, s: 'uint32' },
    q: { bp: F, bs: 'uint32', ap: F, as: 'uint32' },
    b: STOCK_BAR,
    d: STOCK_BAR,
    u: STOCK_BAR,
    l: { u: F, d: F },
    i: { p: F },
    x: { i: 'int64', p: F, s: 'uint32' },
    c: { oi: 'int64', op: F, os: 'uint32', ci: 'int64', cp: F, cs: 'uint32' },
  },
  crypto: CRYPTO,
  'crypto-perps': { ...CRYPTO, p: { ip: F, mp: F, fr: F, oi: F } },
  options: {
    t: { p: F, s: 'uint32' },
    q: { bp: F, bs: 'uint32', ap: F, as: 'uint32' },
  },
  news: { n: { id: 'int64' } },
};

/** Orderbook levels (`b`/`a` of a `T:"o"` item) are price/size pairs of float64. */
const LEVEL_ARRAYS = new Set(['b', 'a']);

/**
 * The msgpack width of `field` of an item of type `type` on a `kind` feed, or undefined when not known (a field
 * Alpaca added after this table; the writer then picks int64/uint64 for integers and float64 for the rest).
 */
export function widthOf(kind: FeedKind, type: string, field: string): NumberWidth | undefined {
  return WIDTHS[kind][type]?.[field];
}

/** True for the orderbook's level arrays, whose numbers are all float64. */
export function isLevelArray(type: string, field: string): boolean {
  return type === 'o' && LEVEL_ARRAYS.has(field);
}
