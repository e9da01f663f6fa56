/**
 * Synthetic stock tape: per symbol a seeded random walk producing, each tick, a quote and a trade (occasionally a
 * correction or a cancel of the previous trade), and at each synthetic minute boundary a minute bar, the running
 * daily bar, sometimes an updated bar, a trading status, LULD bands and an imbalance.
 * Trade ids `i` count up from 1 per symbol: a gap in ids is a lost trade.
 */
import { hashSeed, Random, roundTo } from '../random.js';
import type { NanoTime } from '../time.js';
import { type Bar, BarBuilder, emitMinuteBars } from './bar.js';

import { dayStart, minuteIndex, minuteStart, type SyntheticClock } from './clock.js';
import type { AssetMarket, MarketEvent } from './types.js';

const EXCHANGES = ['V', 'Q', 'N', 'P', 'K', 'Z', 'D'];
const CONDITIONS: readonly string[][] = [['@'], ['@', 'I'], ['@', 'F'], ['@', 'T', 'I'], [' ']];
const QUOTE_CONDITIONS: readonly string[][] = [['R'], ['R'], ['O']];

export interface StockTrade {
  i: number;
  x: string;
  p: number;
  s: number;
  c: string[];
  z: string;
  t: NanoTime;
}
export interface StockQuote {
  bx: string;
  bp: number;
  bs: number;
  ax: string;
  ap: number;
  as: number;
  c: string[];
  z: string;
  t: NanoTime;
}
export class StockTape {
  private readonly rng: Random;
  readonly tape: string;
  private price: number;
  private nextTradeId = 1;
  private halted = false;
  private minute: BarBuilder | null = null;
  private minuteIdx = -1;
  private day: BarBuilder | null = null;
  lastTrade: StockTrade;
  lastQuote: StockQuote;
  lastBar: Bar | null = null;
  prevDailyBar: Bar;

  constructor(
    seed: number,
    namespace: string,
    readonly symbol: string,
    start: NanoTime,
    private readonly exchanges: readonly string[],
  ) {
    this.rng = new Random(hashSeed(seed, namespace, symbol));
    this.price = roundTo(20 + this.rng.next() * 480, 2);
    this.tape = this.rng.pick(['A', 'B', 'C']);
    // Yesterday, so snapshots have a prevDailyBar from the first request on.
    const prevClose = this.price;
    const prevOpen = roundTo(prevClose * (1 + 0.01 * this.rng.gaussian()), 2);
    this.prevDailyBar = {
      t: dayStart(start.plusNanos(-86_400e9)),
      o: prevOpen,
      h: roundTo(Math.max(prevOpen, prevClose) * 1.01, 2),
      l: roundTo(Math.min(prevOpen, prevClose) * 0.99, 2),
      c: prevClose,
      v: this.rng.int(100_000, 5_000_000),
      n: this.rng.int(1_000, 50_000),
      vw: roundTo((prevOpen + prevClose) / 2, 4),
    };
    // Before the first tick the "latest" values are the ones just before the clock starts.
    const before = start.plusNanos(-1_000_000);
    this.lastQuote = this.makeQuote(before);
    this.lastTrade = {
      i: 0,
      x: this.exchanges[0] ?? 'V',
      p: prevClose,
      s: 100,
      c: ['@'],
      z: this.tape,
      t: before,
    };
  }

  private makeQuote(t: NanoTime): StockQuote {
    const half = 0.005 * this.rng.int(1, 5);
    return {
      bx: this.rng.pick(this.exchanges),
      bp: roundTo(Math.max(0.01, this.price - half), 2),
      bs: this.rng.int(1, 20),
      ax: this.rng.pick(this.exchanges),
      ap: roundTo(this.price + half, 2),
      as: this.rng.int(1, 20),
      c: [...this.rng.pick(QUOTE_CONDITIONS)],
      z: this.tape,
      t,
    };
  }

  step(tickTime: NanoTime, tickNs: number, out: MarketEvent[]): void {
    const S = this.symbol;
    const m = minuteIndex(tickTime);
    if (m !== this.minuteIdx) {
      if (this.minute) this.closeMinute(tickTime, out);
      this.minuteIdx = m;
      this.minute = new BarBuilder(minuteStart(m), 0);
      const dayT = dayStart(tickTime);
      if (!this.day || this.day.start.sec !== dayT.sec) this.day = new BarBuilder(dayT, 0);
    }
    const half = Math.max(1, Math.floor(tickNs / 2));
    const quoteTime = tickTime.plusNanos(this.rng.int(0, half - 1));
    const tradeTime = quoteTime.plusNanos(this.rng.int(1, half));
    this.price = roundTo(Math.max(0.01, this.price * (1 + 0.0008 * this.rng.gaussian())), 2);

    const quote = this.makeQuote(quoteTime);
    this.lastQuote = quote;
    out.push({ channel: 'quotes', symbol: S, message: { T: 'q', S, ...quote, r: receivedAt(quote.t) } });

    const trade: StockTrade = {
      i: this.nextTradeId++,
      x: this.rng.pick(this.exchanges),
      p: this.price,
      s: this.rng.int(1, 500),
      c: [...this.rng.pick(CONDITIONS)],
      z: this.tape,
      t: tradeTime,
    };
    const previous = this.lastTrade;
    this.lastTrade = trade;
    this.minute?.add(trade.p, trade.s);
    this.day?.add(trade.p, trade.s);
    out.push({ channel: 'trades', symbol: S, message: { T: 't', S, ...trade, r: receivedAt(trade.t) } });

    const fate = this.rng.next();
    if (previous.i > 0 && fate < 0.01) {
      out.push({
        channel: 'cancelErrors',
        symbol: S,
        message: {
          T: 'x',
          S,
          i: previous.i,
          x: previous.x,
          p: previous.p,
          s: previous.s,
          a: this.rng.pick(['C', 'E']),
          z: this.tape,
          t: tradeTime,
        },
      });
    } else if (previous.i > 0 && fate < 0.02) {
      out.push({
        channel: 'corrections',
        symbol: S,
        message: {
          T: 'c',
          S,
          x: previous.x,
          oi: previous.i,
          op: previous.p,
          os: previous.s,
          oc: previous.c,
          ci: this.nextTradeId++,
          cp: roundTo(previous.p + 0.01, 2),
          cs: previous.s,
          cc: previous.c,
          z: this.tape,
          t: tradeTime,
        },
      });
    }
  }

  private closeMinute(at: NanoTime, out: MarketEvent[]): void {
    const S = this.symbol;
    const bar = emitMinuteBars(S, this.minute, this.day, out);
    if (!bar) return;
    this.lastBar = bar;
    if (this.rng.chance(0.3)) {
      // A late trade amends the minute just closed, as Alpaca's updatedBars do.
      const late = this.rng.int(1, 100);
      out.push({
        channel: 'updatedBars',
        symbol: S,
        message: { T: 'u', S, ...bar, v: bar.v + late, n: bar.n + 1 },
      });
    }
    const haltNow = !this.halted && this.rng.chance(0.1);
    this.halted = haltNow;
    out.push({
      channel: 'statuses',
      symbol: S,
      message: haltNow
        ? { T: 's', S, sc: 'H', sm: 'Trading Halt', rc: 'T1', rm: 'Halt News Pending', t: at, z: this.tape }
        : { T: 's', S, sc: 'T', sm: 'Trading Resumption', rc: '', rm: '', t: at, z: this.tape },
    });
    out.push({
      channel: 'lulds',
      symbol: S,
      message: {
        T: 'l',
        S,
        u: roundTo(this.price * 1.05, 2),
        d: roundTo(this.price * 0.95, 2),
        i: 'B',
        t: at,
        z: this.tape,
      },
    });
    out.push({
      channel: 'imbalances',
      symbol: S,
      message: { T: 'i', S, p: this.price, t: at, z: this.tape },
    });
  }

  /** The running minute and daily bars (for REST snapshots). */
  currentBars(): { minuteBar: Bar | null; dailyBar: Bar | null } {
    const m =
      this.minute && !this.minute.empty ? { t: this.minute.start, ...this.minute.fields() } : this.lastBar;
    const d = this.day && !this.day.empty ? { t: this.day.start, ...this.day.fields() } : null;
    return { minuteBar: m, dailyBar: d };
  }
}

export class StockMarket implements AssetMarket {
  private readonly tapes = new Map<string, StockTape>();

  constructor(
    private readonly seed: number,
    private readonly namespace: string,
    private readonly clock: SyntheticClock,
    readonly universe: readonly string[],
    readonly universeOnly: boolean,
    private readonly exchanges: readonly string[] = EXCHANGES,
  ) {}

  tape(symbol: string): StockTape {
    let tape = this.tapes.get(symbol);
    if (!tape) {
      tape = new StockTape(this.seed, this.namespace, symbol, this.clock.start, this.exchanges);
      this.tapes.set(symbol, tape);
    }
    return tape;
  }

  step(tick: number, active: ReadonlySet<string>, out: MarketEvent[]): void {
    const time = this.clock.timeOf(tick);
    for (const symbol of [...active].sort()) this.tape(symbol).step(time, this.clock.tickNs, out);
  }
}

/** Alpaca's receive time `r` on stream trades and quotes (not in REST answers): a fixed latency after `t`. */
const RECEIVE_LATENCY_NS = 183_417;

function receivedAt(t: NanoTime): NanoTime {
  return t.plusNanos(RECEIVE_LATENCY_NS);
}
