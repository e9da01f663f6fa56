// Routing throughput: AlpacaRouter against the router anyone would write first (parse the frame, filter per
// client, serialise per client), on the same frames in the same run. Batched frames of 10 items, 8 clients with
// overlapping subscriptions. Run: `pnpm --filter @wsproxy/alpaca-adapter run bench` (tsx).
//
// Prints medians of several rounds, items per second, and the speed-up. Bounded in time: ~ROUNDS x FRAMES.

import { decode, encode } from '@msgpack/msgpack';
import { AlpacaRouter, type ClientId, type Encoding } from '../src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const FRAMES = Number(process.env.BENCH_FRAMES ?? 20_000);
const ITEMS_PER_FRAME = 10;
const CLIENTS = 8;
const SYMBOLS = Array.from({ length: 40 }, (_, k) => `SYM${k}`);

/** Client k: trades of 12 symbols starting at 4k, quotes of 6 starting at 4k+2 (neighbours overlap). */
function subscriptions(): Map<ClientId, Map<string, Set<string>>> {
  const table = new Map<ClientId, Map<string, Set<string>>>();
  for (let k = 0; k < CLIENTS; k++) {
    const trades = new Set<string>();
    const quotes = new Set<string>();
    for (let j = 0; j < 12; j++) trades.add(SYMBOLS[(4 * k + j) % SYMBOLS.length]!);
    for (let j = 0; j < 6; j++) quotes.add(SYMBOLS[(4 * k + 2 + j) % SYMBOLS.length]!);
    table.set(
      k,
      new Map([
        ['trades', trades],
        ['quotes', quotes],
      ]),
    );
  }
  return table;
}

function makeItems(seed: number): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  for (let j = 0; j < ITEMS_PER_FRAME; j++) {
    const n = seed * ITEMS_PER_FRAME + j;
    const S = SYMBOLS[(n * 7) % SYMBOLS.length]!;
    items.push(
      n % 3 === 0
        ? {
            T: 'q',
            S,
            bx: 'V',
            bp: 100 + (n % 50) / 100,
            bs: 3,
            ax: 'V',
            ap: 100.5,
            as: 2,
            c: ['R'],
            z: 'C',
            t: '2024-01-02T15:04:05.123456789Z',
          }
        : {
            T: 't',
            S,
            i: n,
            x: 'V',
            p: 100 + (n % 70) / 100,
            s: 100,
            c: ['@', 'I'],
            z: 'C',
            t: '2024-01-02T15:04:05.123456789Z',
          },
    );
  }
  return items;
}

const channelOf: Record<string, string> = { t: 'trades', q: 'quotes' };

/** The naive router: decode the frame, filter for each client, encode each client's frame. */
function naiveRoute(
  frame: Uint8Array,
  table: Map<ClientId, Map<string, Set<string>>>,
  encoding: Encoding,
): number {
  const items = (encoding === 'json' ? JSON.parse(Buffer.from(frame).toString()) : decode(frame)) as {
    T: string;
    S: string;
  }[];
  let bytes = 0;
  for (const channels of table.values()) {
    const mine = items.filter((item) => {
      const set = channels.get(channelOf[item.T] ?? '');
      return set !== undefined && (set.has(item.S) || set.has('*'));
    });
    if (mine.length > 0) bytes += encoding === 'json' ? JSON.stringify(mine).length : encode(mine).length;
  }
  return bytes;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface Rates {
  ours: number;
  naive: number;
  oursCpu: number;
  naiveCpu: number;
}

/** CPU microseconds this process used (user + system): unlike wall time, not inflated by other processes. */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

function run(encoding: Encoding): Rates {
  const table = subscriptions();
  const frames: Uint8Array[] = Array.from({ length: 256 }, (_, k) => {
    const items = makeItems(k);
    return encoding === 'json' ? Buffer.from(JSON.stringify(items)) : encode(items);
  });
  const router = new AlpacaRouter({ feed: 'stocks', encoding });
  router.setRoutingTable(table);
  let sink = 0;
  const oursRates: number[] = [];
  const naiveRates: number[] = [];
  const oursCpuRates: number[] = [];
  const naiveCpuRates: number[] = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    let t0 = process.hrtime.bigint();
    let c0 = cpuMicros();
    for (let f = 0; f < FRAMES; f++) {
      const { records } = router.route(frames[f & 255]!);
      for (const r of records) sink += r.bytes.length + r.recipients.length;
    }
    const oursNs = Number(process.hrtime.bigint() - t0);
    const oursCpu = cpuMicros() - c0;
    t0 = process.hrtime.bigint();
    c0 = cpuMicros();
    for (let f = 0; f < FRAMES; f++) sink += naiveRoute(frames[f & 255]!, table, encoding);
    const naiveNs = Number(process.hrtime.bigint() - t0);
    const naiveCpu = cpuMicros() - c0;
    if (round === 0) continue; // warm-up
    const items = FRAMES * ITEMS_PER_FRAME;
    oursRates.push(items / (oursNs / 1e9));
    naiveRates.push(items / (naiveNs / 1e9));
    oursCpuRates.push(items / (oursCpu / 1e6));
    naiveCpuRates.push(items / (naiveCpu / 1e6));
  }
  if (sink === 0) console.log('unreachable'); // keep the work observable
  return {
    ours: median(oursRates),
    naive: median(naiveRates),
    oursCpu: median(oursCpuRates),
    naiveCpu: median(naiveCpuRates),
  };
}

const fmt = (n: number) => `${(n / 1e6).toFixed(2)}M items/s`;
console.log(
  `router bench: ${FRAMES} frames x ${ITEMS_PER_FRAME} items, ${CLIENTS} clients, ${ROUNDS} rounds (median), node ${process.version}`,
);
console.log(
  '(wall: items per elapsed second; cpu: items per CPU-second of this process, robust to a busy machine)',
);
for (const encoding of ['json', 'msgpack'] as const) {
  const r = run(encoding);
  console.log(
    `${encoding.padEnd(8)} wall: AlpacaRouter ${fmt(r.ours)}  naive ${fmt(r.naive)}  speed-up ${(r.ours / r.naive).toFixed(1)}x`,
  );
  console.log(
    `${''.padEnd(8)} cpu:  AlpacaRouter ${fmt(r.oursCpu)}  naive ${fmt(r.naiveCpu)}  speed-up ${(r.oursCpu / r.naiveCpu).toFixed(1)}x`,
  );
}
