/**
 * Synthetic crypto tape: per symbol a seeded random walk with trades (taker side `tks`), quotes, minute/daily/
 * updated bars and an order book. The book is a ladder of levels around the mid; each tick it follows the price
 * and a few sizes change. A session subscribing to orderbooks first gets a full `r:true` snapshot, then the deltas
 * the ticks produce, where a level with `s:0` is removed. Each tick also carries a perpetual-futures pricing item
 * (`T:"p"`: index and mark price, funding rate, open interest, next funding time), which only the perps feed's
 * `pricing` subscribers receive.
 */
import { hashSeed, Random, roundTo } from '../random.js';
import { NanoTime } from '../time.js';
import { type Bar, BarBuilder, emitMinuteBars } from './bar.js';
import { dayStart, minuteIndex, minuteStart, type SyntheticClock } from './clock.js';
import type { AssetMarket, MarketEvent } from './types.js';

const LEVELS = 10;

/**
 * Real crypto trade ids are 64-bit and far beyond 2^53 (Alpaca's docs show 3447222699101865076): the mock's count
 * up from the one in the docs, so a client that rounds them through a double loses them at once.
 */
export const FIRST_CRYPTO_TRADE_ID = 3447222699101865076n;

export interface BookLevel {
  p: number;
  s: number;
}

export interface CryptoTrade {
  p: number;
  s: number;
  t: NanoTime;
  /** 64-bit, like Alpaca's: beyond 2^53, so a plain JS number would round it. */
  i: bigint;
  tks: 'B' | 'S';
}
/**
 * The perps feed's pricing item, with the fields and order of the Go SDK's own stream fixture (see the adapter's
 * conformance corpus, crypto-perps.json): exchange `x`, index `ip`, mark `mp`, funding rate `fr`, open interest `oi`
 * and the next funding time `ft`, a timestamp like `t`.
 */
export interface PerpPricing {
  t: NanoTime;
  x: string;
  ip: number;
  mp: number;
  fr: number;
  oi: number;
  ft: NanoTime;
}

/** The exchange code the Go SDK's pricing fixture carries. */
const PERP_EXCHANGE = 'PERP';
/** Funding settles on the hour (Alpaca's samples: the next funding time is whole hours after `t`). */
const FUNDING_PERIOD_SEC = 3600;

export interface CryptoQuote {
  bp: number;
  bs: number;
  ap: number;
  as: number;
  t: NanoTime;
}

export class OrderBook {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  t: NanoTime;

  constructor(t: NanoTime) {
    this.t = t;
  }

  /** Full book, best first, as an `r:true` message. */
  snapshot(symbol: string): Record<string, unknown> {
    return {
      T: 'o',
      S: symbol,
      t: this.t,
      b: sortedLevels(this.bids, 'desc'),
      a: sortedLevels(this.asks, 'asc'),
      r: true,
    };
  }

  levels(): { b: BookLevel[]; a: BookLevel[] } {
    return { b: sortedLevels(this.bids, 'desc'), a: sortedLevels(this.asks, 'asc') };
  }
}

function sortedLevels(side: Map<number, number>, order: 'asc' | 'desc'): BookLevel[] {
  const prices = [...side.keys()].sort((x, y) => (order === 'asc' ? x - y : y - x));
  return prices.map((p) => ({ p, s: side.get(p) as number }));
}

export class CryptoTape {
  private readonly rng: Random;
  private price: number;
  private readonly step_: number;
  /** Pricing draws from its own stream, so adding it left every other series of a seed as it was. */
  private readonly pricingRng: Random;
  private openInterest: number;
  private nextTradeId = FIRST_CRYPTO_TRADE_ID;
  private minute: BarBuilder | null = null;
  private minuteIdx = -1;
  private day: BarBuilder | null = null;
  readonly book: OrderBook;
  lastTrade: CryptoTrade;
  lastQuote: CryptoQuote;
  lastBar: Bar | null = null;
  prevDailyBar: Bar;

  constructor(
    seed: number,
    readonly symbol: string,
    start: NanoTime,
  ) {
    this.rng = new Random(hashSeed(seed, 'crypto', symbol));
    const magnitude = this.rng.int(0, 4); // 1 .. 10 000
    this.price = roundTo((1 + this.rng.next() * 9) * 10 ** magnitude, 2);
    this.step_ = Math.max(0.01, roundTo(this.price * 0.0002, 2));
    this.pricingRng = new Random(hashSeed(seed, 'crypto-perps-pricing', symbol));
    this.openInterest = roundTo(10 + this.pricingRng.next() * 10_000, 4);
    const before = start.plusNanos(-1_000_000);
    this.prevDailyBar = {
      t: dayStart(start.plusNanos(-86_400e9)),
      o: this.price,
      h: roundTo(this.price * 1.02, 2),
      l: roundTo(this.price * 0.98, 2),
      c: this.price,
      v: roundTo(this.rng.next() * 1000, 6),
      n: this.rng.int(100, 10_000),
      vw: this.price,
    };
    this.book = new OrderBook(before);
    this.rebuildLadder([], []);
    this.lastQuote = this.quoteFromBook(before);
    this.lastTrade = { p: this.price, s: 0.01, t: before, i: 0n, tks: 'B' };
  }

  private size(): number {
    return roundTo(0.001 + this.rng.next() * 2, 6);
  }

  private quoteFromBook(t: NanoTime): CryptoQuote {
    const { b, a } = this.book.levels();
    return { bp: b[0]?.p ?? this.price, bs: b[0]?.s ?? 0, ap: a[0]?.p ?? this.price, as: a[0]?.s ?? 0, t };
  }

  /** Moves the ladder to the current mid, recording every level that appeared, changed or went (s:0). */
  private rebuildLadder(bidChanges: BookLevel[], askChanges: BookLevel[]): void {
    const mid = Math.round(this.price / this.step_) * this.step_;
    const wantBids = new Set<number>();
    const wantAsks = new Set<number>();
    for (let k = 1; k <= LEVELS; k++) {
      wantBids.add(roundTo(mid - k * this.step_, 2));
      wantAsks.add(roundTo(mid + k * this.step_, 2));
    }
    syncSide(this.book.bids, wantBids, bidChanges, () => this.size());
    syncSide(this.book.asks, wantAsks, askChanges, () => this.size());
  }

  step(tickTime: NanoTime, tickNs: number, out: MarketEvent[]): void {
    const S = this.symbol;
    const m = minuteIndex(tickTime);
    if (m !== this.minuteIdx) {
      this.closeMinute(out);
      this.minuteIdx = m;
      this.minute = new BarBuilder(minuteStart(m), 6);
      const dayT = dayStart(tickTime);
      if (!this.day || this.day.start.sec !== dayT.sec) this.day = new BarBuilder(dayT, 6);
    }
    const third = Math.max(1, Math.floor(tickNs / 3));
    const bookTime = tickTime.plusNanos(this.rng.int(0, third - 1));
    const quoteTime = bookTime.plusNanos(this.rng.int(1, third));
    const tradeTime = quoteTime.plusNanos(this.rng.int(1, third));

    this.price = roundTo(Math.max(0.01, this.price * (1 + 0.0005 * this.rng.gaussian())), 2);
    const b: BookLevel[] = [];
    const a: BookLevel[] = [];
    this.rebuildLadder(b, a);
    // A couple of resting sizes change even when the mid does not move.
    for (let n = this.rng.int(1, 2); n > 0; n--) {
      const side = this.rng.chance(0.5) ? this.book.bids : this.book.asks;
      const prices = [...side.keys()];
      const price = this.rng.pick(prices);
      const size = this.size();
      side.set(price, size);
      const changes = side === this.book.bids ? b : a;
      const existing = changes.find((l) => l.p === price);
      if (existing) existing.s = size;
      else changes.push({ p: price, s: size });
    }
    this.book.t = bookTime;
    out.push({ channel: 'orderbooks', symbol: S, message: { T: 'o', S, t: bookTime, b, a } });

    const quote = this.quoteFromBook(quoteTime);
    this.lastQuote = quote;
    out.push({ channel: 'quotes', symbol: S, message: { T: 'q', S, ...quote } });

    const taker = this.rng.chance(0.5) ? 'B' : 'S';
    const trade: CryptoTrade = {
      p: taker === 'B' ? quote.ap : quote.bp,
      s: this.size(),
      t: tradeTime,
      i: this.nextTradeId++,
      tks: taker,
    };
    this.lastTrade = trade;
    this.minute?.add(trade.p, trade.s);
    this.day?.add(trade.p, trade.s);
    out.push({ channel: 'trades', symbol: S, message: { T: 't', S, ...trade } });
    out.push({ channel: 'pricing', symbol: S, message: { T: 'p', S, ...this.pricing(tradeTime) } });
  }

  /** Index at the traded price, mark a little off it, funding a small signed rate, open interest drifting. */
  private pricing(t: NanoTime): PerpPricing {
    const rng = this.pricingRng;
    this.openInterest = roundTo(Math.max(0, this.openInterest * (1 + 0.001 * rng.gaussian())), 4);
    return {
      t,
      x: PERP_EXCHANGE,
      ip: this.price,
      mp: roundTo(this.price * (1 + 0.0003 * rng.gaussian()), 6),
      fr: roundTo(0.0002 * rng.gaussian(), 9),
      oi: this.openInterest,
      ft: new NanoTime((Math.floor(t.sec / FUNDING_PERIOD_SEC) + 1) * FUNDING_PERIOD_SEC, 0),
    };
  }

  private closeMinute(out: MarketEvent[]): void {
    const S = this.symbol;
    const bar = emitMinuteBars(S, this.minute, this.day, out);
    if (!bar) return;
    this.lastBar = bar;
    if (this.rng.chance(0.3)) {
      out.push({
        channel: 'updatedBars',
        symbol: S,
        message: { T: 'u', S, ...bar, v: roundTo(bar.v + 0.5, 6), n: bar.n + 1 },
      });
    }
  }

  currentBars(): { minuteBar: Bar | null; dailyBar: Bar | null } {
    const m =
      this.minute && !this.minute.empty ? { t: this.minute.start, ...this.minute.fields() } : this.lastBar;
    const d = this.day && !this.day.empty ? { t: this.day.start, ...this.day.fields() } : null;
    return { minuteBar: m, dailyBar: d };
  }
}

function syncSide(
  side: Map<number, number>,
  wanted: ReadonlySet<number>,
  changes: BookLevel[],
  size: () => number,
): void {
  for (const price of [...side.keys()]) {
    if (!wanted.has(price)) {
      side.delete(price);
      changes.push({ p: price, s: 0 });
    }
  }
  for (const price of wanted) {
    if (!side.has(price)) {
      const s = size();
      side.set(price, s);
      changes.push({ p: price, s });
    }
  }
}

export class CryptoMarket implements AssetMarket {
  private readonly tapes = new Map<string, CryptoTape>();
  readonly universeOnly = false;

  constructor(
    private readonly seed: number,
    private readonly clock: SyntheticClock,
    readonly universe: readonly string[],
  ) {}

  tape(symbol: string): CryptoTape {
    let tape = this.tapes.get(symbol);
    if (!tape) {
      tape = new CryptoTape(this.seed, symbol, this.clock.start);
      this.tapes.set(symbol, tape);
    }
    return tape;
  }

  step(tick: number, active: ReadonlySet<string>, out: MarketEvent[]): void {
    const time = this.clock.timeOf(tick);
    for (const symbol of [...active].sort()) this.tape(symbol).step(time, this.clock.tickNs, out);
  }
}
