// The routing workload shared by the naive router and the product's: upstream frames of 10 Alpaca stock items
// (trades and quotes over 24 symbols), and 8 clients whose subscriptions overlap (sliding windows of 8 symbols,
// one client on trades "*"), as several strategies watching neighbouring baskets would.
import { encode as encodeMsgpack } from '@msgpack/msgpack';

export type Encoding = 'json' | 'msgpack';

export interface AlpacaItem {
  T: string;
  S: string;
  [field: string]: unknown;
}

/** client -> channel -> symbols, the shape the product router takes. */
export type Subscriptions = Map<number, Map<string, Set<string>>>;

export const ITEMS_PER_FRAME = 10;
export const CLIENTS = 8;
const SYMBOLS = Array.from({ length: 24 }, (_, i) => `SYM${String.fromCharCode(65 + i)}`);
const FRAMES = 512;

function item(i: number, symbol: string): AlpacaItem {
  const t = `2026-11-22T14:30:${String(i % 60).padStart(2, '0')}.123456789Z`;
  return i % 3 === 0
    ? {
        T: 't',
        S: symbol,
        i: 100_000 + i,
        x: 'V',
        p: 189.91 + (i % 17) / 100,
        s: 1 + (i % 50),
        c: ['@'],
        z: 'C',
        t,
      }
    : { T: 'q', S: symbol, bx: 'V', bp: 189.9, bs: 3, ax: 'V', ap: 189.95, as: 2, c: ['R'], z: 'C', t };
}

export function subscriptions(): Subscriptions {
  const subs: Subscriptions = new Map();
  for (let c = 0; c < CLIENTS; c++) {
    const window = Array.from({ length: 8 }, (_, j) => SYMBOLS[(c * 3 + j) % SYMBOLS.length]!);
    subs.set(
      c,
      new Map([
        ['trades', new Set(c === CLIENTS - 1 ? ['*'] : window)],
        ['quotes', new Set(window)],
      ]),
    );
  }
  return subs;
}

export interface Workload {
  encoding: Encoding;
  frames: Buffer[];
  subs: Subscriptions;
}

export function workload(encoding: Encoding): Workload {
  const frames: Buffer[] = [];
  let n = 0;
  for (let f = 0; f < FRAMES; f++) {
    const items: AlpacaItem[] = [];
    for (let j = 0; j < ITEMS_PER_FRAME; j++, n++)
      items.push(item(n, SYMBOLS[(n * 7 + f) % SYMBOLS.length]!));
    frames.push(encoding === 'json' ? Buffer.from(JSON.stringify(items)) : Buffer.from(encodeMsgpack(items)));
  }
  return { encoding, frames, subs: subscriptions() };
}
