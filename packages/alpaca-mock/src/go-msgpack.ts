/**
 * msgpack as Alpaca's Go server writes it (vmihailenco/msgpack on Go structs): every numeric field in the fixed
 * width of its Go type — ids int64 (0xd3), stock/option sizes uint32 (0xce), stock bar volumes and trade counts
 * uint64 (0xcf), prices and crypto sizes float64 (0xcb) even when whole — where a generic encoder would pick the
 * smallest form. Timestamps and every other value are left to the generic encoder (`encodeOther`).
 *
 * The mock is a stand-in for Alpaca with no dependency on the adapter it tests, so it carries its own copy of
 * Alpaca's field types (the adapter's lives in its item-schema.ts).
 */
import type { AssetClass } from './endpoints.js';

type Width = 'int64' | 'uint32' | 'uint64' | 'float64';
type Widths = Readonly<Record<string, Width>>;

const F = 'float64';
const STOCK_BAR: Widths = { o: F, h: F, l: F, c: F, v: 'uint64', n: 'uint64', vw: F };
const CRYPTO_BAR: Widths = { o: F, h: F, l: F, c: F, v: F, n: 'uint64', vw: F };

const WIDTHS: Readonly<Record<AssetClass, Readonly<Record<string, Widths>>>> = {
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
  crypto: {
    t: { i: 'int64', p: F, s: F },
    q: { bp: F, bs: F, ap: F, as: F },
    b: CRYPTO_BAR,
    d: CRYPTO_BAR,
    u: CRYPTO_BAR,
    // Perps pricing (CryptoPerpPricing): every number a float64, open interest included.
    p: { ip: F, mp: F, fr: F, oi: F },
  },
  options: { t: { p: F, s: 'uint32' }, q: { bp: F, bs: 'uint32', ap: F, as: 'uint32' } },
  news: { n: { id: 'int64' } },
};

/** The one value as Go writes a field of that type. */
function fixed(value: number | bigint, width: Width): Uint8Array {
  const out = Buffer.alloc(width === 'uint32' ? 5 : 9);
  if (width === 'float64') {
    out[0] = 0xcb;
    out.writeDoubleBE(Number(value), 1);
  } else if (width === 'uint32') {
    out[0] = 0xce;
    out.writeUInt32BE(Number(value), 1);
  } else if (width === 'uint64') {
    out[0] = 0xcf;
    out.writeBigUInt64BE(BigInt(value), 1);
  } else {
    out[0] = 0xd3;
    out.writeBigInt64BE(BigInt(value), 1);
  }
  return out;
}

function strHeader(n: number): Uint8Array {
  if (n < 32) return Uint8Array.of(0xa0 | n);
  if (n < 0x100) return Uint8Array.of(0xd9, n);
  return Uint8Array.of(0xda, n >> 8, n & 0xff);
}

function containerHeader(n: number, fix: number, b16: number, b32: number): Uint8Array {
  if (n < 16) return Uint8Array.of(fix | n);
  if (n < 0x10000) return Uint8Array.of(b16, n >> 8, n & 0xff);
  const b = Buffer.alloc(5);
  b[0] = b32;
  b.writeUInt32BE(n, 1);
  return b;
}

/** An orderbook level list (`b`/`a` of `T:"o"`): `{p, s}` pairs of float64. */
function levels(list: readonly { p: number; s: number }[]): Uint8Array[] {
  const parts: Uint8Array[] = [containerHeader(list.length, 0x90, 0xdc, 0xdd)];
  for (const level of list) {
    parts.push(containerHeader(2, 0x80, 0xde, 0xdf));
    parts.push(strHeader(1), Buffer.from('p'), fixed(level.p, 'float64'));
    parts.push(strHeader(1), Buffer.from('s'), fixed(level.s, 'float64'));
  }
  return parts;
}

/**
 * A frame (array of messages) in Alpaca's msgpack: maps keep their key order (`T` first), known numeric fields
 * get their Go width, everything else goes through `encodeOther` (strings, arrays of strings, timestamps, ...).
 */
export function encodeGoMsgpack(
  messages: readonly unknown[],
  assetClass: AssetClass,
  encodeOther: (value: unknown) => Uint8Array,
): Buffer {
  const parts: Uint8Array[] = [containerHeader(messages.length, 0x90, 0xdc, 0xdd)];
  for (const message of messages) {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      parts.push(encodeOther(message));
      continue;
    }
    const record = message as Record<string, unknown>;
    const widths = WIDTHS[assetClass][typeof record.T === 'string' ? record.T : ''] ?? {};
    const entries = Object.entries(record).filter(([, v]) => v !== undefined);
    parts.push(containerHeader(entries.length, 0x80, 0xde, 0xdf));
    for (const [key, value] of entries) {
      const name = Buffer.from(key);
      parts.push(strHeader(name.length), name);
      const width = widths[key];
      if (width && (typeof value === 'number' || typeof value === 'bigint')) parts.push(fixed(value, width));
      else if (record.T === 'o' && (key === 'b' || key === 'a') && Array.isArray(value))
        parts.push(...levels(value as { p: number; s: number }[]));
      else parts.push(encodeOther(value));
    }
  }
  return Buffer.concat(parts);
}
