/** OHLCV aggregation shared by stocks and crypto: minute bars, the running daily bar, updated bars. */
import { roundTo } from '../random.js';
import type { NanoTime } from '../time.js';
import type { MarketEvent } from './types.js';

export interface BarFields {
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  n: number;
  vw: number;
}

export interface Bar extends BarFields {
  t: NanoTime;
}

/**
 * Closes a minute as Alpaca does for stocks and crypto alike: the minute bar, then the running daily bar while the
 * day has trades. Returns the minute bar (null for a minute without trades) for the caller's own follow-ups.
 */
export function emitMinuteBars(
  symbol: string,
  minute: BarBuilder | null,
  day: BarBuilder | null,
  out: MarketEvent[],
): Bar | null {
  if (!minute || minute.empty) return null;
  const bar: Bar = { t: minute.start, ...minute.fields() };
  out.push({ channel: 'bars', symbol, message: { T: 'b', S: symbol, ...bar } });
  if (day && !day.empty) {
    out.push({ channel: 'dailyBars', symbol, message: { T: 'd', S: symbol, t: day.start, ...day.fields() } });
  }
  return bar;
}

export class BarBuilder {
  private o = 0;
  private h = 0;
  private l = 0;
  private c = 0;
  private v = 0;
  private n = 0;
  private notional = 0;

  constructor(
    readonly start: NanoTime,
    private readonly sizeDecimals: number,
  ) {}

  get empty(): boolean {
    return this.n === 0;
  }

  add(price: number, size: number): void {
    if (this.n === 0) {
      this.o = price;
      this.h = price;
      this.l = price;
    }
    this.h = Math.max(this.h, price);
    this.l = Math.min(this.l, price);
    this.c = price;
    this.v = roundTo(this.v + size, this.sizeDecimals);
    this.n += 1;
    this.notional += price * size;
  }

  fields(): BarFields {
    return {
      o: this.o,
      h: this.h,
      l: this.l,
      c: this.c,
      v: this.v,
      n: this.n,
      vw: this.v > 0 ? roundTo(this.notional / this.v, 6) : this.c,
    };
  }
}
