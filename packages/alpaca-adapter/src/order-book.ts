// A crypto order book kept from Alpaca's `o` messages: `r:true` replaces the whole book, other messages are deltas
// where a level with size 0 removes that price. Used to give a late joiner a synthetic `r:true` snapshot, since
// Alpaca only sends one when the upstream subscription starts.

export interface BookLevel {
  readonly p: number;
  readonly s: number;
}

/** The fields of an orderbook message the book needs (decoded from JSON or msgpack). */
export interface OrderbookMessage {
  readonly T: 'o';
  readonly S: string;
  readonly t: unknown;
  readonly b?: readonly BookLevel[];
  readonly a?: readonly BookLevel[];
  readonly r?: boolean;
}

export class OrderBook {
  readonly symbol: string;
  private readonly bids = new Map<number, number>();
  private readonly asks = new Map<number, number>();
  /** Timestamp of the last message applied, in whatever form the wire carried it (string or Date). */
  private time: unknown;
  /** False until the first `r:true`: deltas without a base cannot produce a faithful snapshot. */
  private complete = false;

  constructor(symbol: string) {
    this.symbol = symbol;
  }

  apply(message: OrderbookMessage): void {
    if (message.r === true) {
      this.bids.clear();
      this.asks.clear();
      this.complete = true;
    }
    applyLevels(this.bids, message.b);
    applyLevels(this.asks, message.a);
    this.time = message.t;
  }

  /** True once a full-book reset has been seen, so the book reflects Alpaca's. */
  get isComplete(): boolean {
    return this.complete;
  }

  /** A message equivalent to Alpaca's reset: bids best (highest) first, asks best (lowest) first. */
  snapshot(): OrderbookMessage & { readonly r: true } {
    const b = [...this.bids].sort((x, y) => y[0] - x[0]).map(([p, s]) => ({ p, s }));
    const a = [...this.asks].sort((x, y) => x[0] - y[0]).map(([p, s]) => ({ p, s }));
    return { T: 'o', S: this.symbol, t: this.time, b, a, r: true };
  }
}

function applyLevels(side: Map<number, number>, levels: readonly BookLevel[] | undefined): void {
  if (!levels) return;
  for (const level of levels) {
    if (typeof level?.p !== 'number' || typeof level.s !== 'number') continue;
    if (level.s === 0) side.delete(level.p);
    else side.set(level.p, level.s);
  }
}
