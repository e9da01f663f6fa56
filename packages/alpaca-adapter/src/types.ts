// Every message of Alpaca's streams (ALPACA.md), as a strategy receives them through AlpacaStream. Timestamps are
// RFC-3339 strings with up to nanosecond precision whatever the wire encoding (msgpack timestamps are converted).
// Ids are 64-bit on Alpaca's side and exceed 2^53 (crypto trades), so every id field is a `bigint`, exact, in both
// encodings; any other integer a double cannot hold exactly also arrives as a `bigint` rather than rounded.
// Items keep every field Alpaca sent, including ones not declared here (e.g. the receive time `r`).

/** RFC-3339 timestamp, e.g. `2021-02-22T15:51:44.208123456Z`. */
export type Timestamp = string;

// ---- control ----
export interface SuccessMessage {
  readonly T: 'success';
  readonly msg: 'connected' | 'authenticated' | (string & {});
}
export interface ErrorMessage {
  readonly T: 'error';
  readonly code: number;
  readonly msg: string;
}
export interface SubscriptionMessage {
  readonly T: 'subscription';
  readonly [channel: string]: string | readonly string[];
}

// ---- stocks ----
export interface StockTrade {
  readonly T: 't';
  readonly S: string;
  /** Trade id (64-bit). */
  readonly i: bigint;
  readonly x: string;
  readonly p: number;
  readonly s: number;
  readonly c: readonly string[];
  readonly z: string;
  readonly t: Timestamp;
  /** When Alpaca received it (sent by some feeds; a timestamp extension in msgpack). */
  readonly r?: Timestamp;
}
export interface StockQuote {
  readonly T: 'q';
  readonly S: string;
  readonly bx: string;
  readonly bp: number;
  readonly bs: number;
  readonly ax: string;
  readonly ap: number;
  readonly as: number;
  readonly c: readonly string[];
  readonly z: string;
  readonly t: Timestamp;
  readonly r?: Timestamp;
}
export interface Bar {
  /** `b` minute bar, `d` daily bar, `u` updated bar. */
  readonly T: 'b' | 'd' | 'u';
  readonly S: string;
  readonly o: number;
  readonly h: number;
  readonly l: number;
  readonly c: number;
  readonly v: number;
  readonly n?: number;
  readonly vw?: number;
  readonly t: Timestamp;
}
export interface TradingStatus {
  readonly T: 's';
  readonly S: string;
  readonly sc: string;
  readonly sm: string;
  readonly rc: string;
  readonly rm: string;
  readonly z: string;
  readonly t: Timestamp;
}
export interface Luld {
  readonly T: 'l';
  readonly S: string;
  readonly u: number;
  readonly d: number;
  readonly i: string;
  readonly z: string;
  readonly t: Timestamp;
}
export interface Correction {
  readonly T: 'c';
  readonly S: string;
  readonly x: string;
  /** Original trade id (64-bit). */
  readonly oi: bigint;
  readonly op: number;
  readonly os: number;
  readonly oc: readonly string[];
  /** Corrected trade id (64-bit). */
  readonly ci: bigint;
  readonly cp: number;
  readonly cs: number;
  readonly cc: readonly string[];
  readonly z: string;
  readonly t: Timestamp;
}
export interface CancelError {
  readonly T: 'x';
  readonly S: string;
  readonly i: bigint;
  readonly x: string;
  readonly p: number;
  readonly s: number;
  /** `C` cancel, `E` error. */
  readonly a: 'C' | 'E' | (string & {});
  readonly z: string;
  readonly t: Timestamp;
}
export interface Imbalance {
  readonly T: 'i';
  readonly S: string;
  readonly p: number;
  readonly z: string;
  readonly t: Timestamp;
}

// ---- crypto ----
export interface CryptoTrade {
  readonly T: 't';
  readonly S: string;
  readonly p: number;
  readonly s: number;
  /** Trade id: 64-bit, beyond 2^53 on real crypto feeds (e.g. 3447222699101865076n). */
  readonly i: bigint;
  /** Taker side: `B` buy, `S` sell. */
  readonly tks: 'B' | 'S' | (string & {});
  readonly t: Timestamp;
}
export interface CryptoQuote {
  readonly T: 'q';
  readonly S: string;
  readonly bp: number;
  readonly bs: number;
  readonly ap: number;
  readonly as: number;
  readonly t: Timestamp;
}
export interface OrderbookLevel {
  readonly p: number;
  /** 0 removes the level. */
  readonly s: number;
}
export interface Orderbook {
  readonly T: 'o';
  readonly S: string;
  readonly t: Timestamp;
  readonly b: readonly OrderbookLevel[];
  readonly a: readonly OrderbookLevel[];
  /** True: a full book (replace what you have); otherwise a delta. */
  readonly r?: boolean;
}

// ---- options ----
export interface OptionTrade {
  readonly T: 't';
  readonly S: string;
  readonly p: number;
  readonly s: number;
  readonly x: string;
  readonly c: string;
  readonly t: Timestamp;
}
export interface OptionQuote {
  readonly T: 'q';
  readonly S: string;
  readonly bx: string;
  readonly bp: number;
  readonly bs: number;
  readonly ax: string;
  readonly ap: number;
  readonly as: number;
  readonly c: string;
  readonly t: Timestamp;
}

// ---- news ----
export interface News {
  readonly T: 'n';
  readonly id: bigint;
  readonly headline: string;
  readonly summary: string;
  readonly author: string;
  readonly created_at: Timestamp;
  readonly updated_at: Timestamp;
  readonly url: string;
  readonly content: string;
  /** Zero, one or many symbols. */
  readonly symbols: readonly string[];
  readonly source: string;
  /** Present on some articles: `{ size, url }` entries. */
  readonly images?: readonly { readonly size: string; readonly url: string }[];
}

// ---- crypto perpetual futures (v1beta1/crypto-perps) ----
export interface PerpPricing {
  readonly T: 'p';
  readonly S: string;
  readonly t: Timestamp;
  readonly x?: string;
  /** Index price. */
  readonly ip: number;
  /** Mark price. */
  readonly mp: number;
  /** Funding rate. */
  readonly fr: number;
  /** Open interest. */
  readonly oi: number;
  /** Next funding time. */
  readonly ft: Timestamp;
}

// ---- account (trade_updates) ----
export type TradeUpdateEvent =
  | 'new'
  | 'fill'
  | 'partial_fill'
  | 'canceled'
  | 'expired'
  | 'done_for_day'
  | 'replaced'
  | 'accepted'
  | 'rejected'
  | 'pending_new'
  | 'stopped'
  | 'pending_cancel'
  | 'pending_replace'
  | 'calculated'
  | 'suspended'
  | 'order_replace_rejected'
  | 'order_cancel_rejected';

export interface TradeUpdate {
  readonly stream: 'trade_updates';
  readonly data: {
    readonly event: TradeUpdateEvent;
    readonly order: Readonly<Record<string, unknown>>;
    readonly price?: string | number;
    readonly qty?: string | number;
    readonly position_qty?: string | number;
    readonly timestamp?: Timestamp;
    readonly execution_id?: string;
    readonly [field: string]: unknown;
  };
}
export interface AuthorizationMessage {
  readonly stream: 'authorization';
  readonly data: { readonly status: 'authorized' | 'unauthorized'; readonly action: string };
}
export interface ListeningMessage {
  readonly stream: 'listening';
  readonly data: { readonly streams: readonly string[] };
}
export type AccountMessage = TradeUpdate | AuthorizationMessage | ListeningMessage;

/** Anything a market-data stream delivers. */
export type MarketDataMessage =
  | StockTrade
  | StockQuote
  | Bar
  | TradingStatus
  | Luld
  | Correction
  | CancelError
  | Imbalance
  | CryptoTrade
  | CryptoQuote
  | Orderbook
  | OptionTrade
  | OptionQuote
  | News
  | PerpPricing;

export type ControlMessage = SuccessMessage | ErrorMessage | SubscriptionMessage;

/** Event name per message type `T`. */
export const EVENT_OF_TYPE = {
  t: 'trade',
  q: 'quote',
  b: 'bar',
  d: 'dailyBar',
  u: 'updatedBar',
  s: 'status',
  l: 'luld',
  c: 'correction',
  x: 'cancelError',
  i: 'imbalance',
  o: 'orderbook',
  n: 'news',
  p: 'pricing',
} as const;

/** The channels of a subscribe request. `*` means every symbol (not for option quotes). */
export interface SubscriptionSet {
  readonly trades?: readonly string[];
  readonly quotes?: readonly string[];
  readonly bars?: readonly string[];
  readonly dailyBars?: readonly string[];
  readonly updatedBars?: readonly string[];
  readonly statuses?: readonly string[];
  readonly lulds?: readonly string[];
  readonly imbalances?: readonly string[];
  readonly orderbooks?: readonly string[];
  readonly news?: readonly string[];
  /** crypto-perps only. */
  readonly pricing?: readonly string[];
}
