/** OHLCV aggregation shared by stocks and crypto: minute bars, the running daily bar, updated bars. */
import { roundTo } from '../random.js';
import type { NanoTime } from '../time.js';

export interface BarFields {
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  n: number;
  vw: number;
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
