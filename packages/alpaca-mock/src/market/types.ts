/** What a market produces per tick: a message (T first) plus where it routes. */
export interface MarketEvent {
  /** Subscription channel that delivers it (`trades`, `orderbooks`, `news`, ...). */
  readonly channel: string;
  /** Symbol it routes by; news routes by `symbols` instead. */
  readonly symbol: string;
  /** News only: every symbol the item mentions. */
  readonly symbols?: readonly string[];
  readonly message: Record<string, unknown>;
}

/** One synthetic market (an asset class). `step` must depend only on the seed, the tick and `active`. */
export interface AssetMarket {
  /** What `*` expands to. */
  readonly universe: readonly string[];
  /** Only universe symbols ever produce data (the test feed: FAKEPACA only). */
  readonly universeOnly: boolean;
  step(tick: number, active: ReadonlySet<string>, out: MarketEvent[]): void;
}
