/**
 * One session's subscription set: per channel, an ordered set of symbols (or `*`). Changes are computed on a copy
 * and committed only when the whole request is valid, so a rejected request (405/410/413) leaves it untouched.
 */
import { DERIVED_FROM_TRADES, type MarketDataEndpoint } from './endpoints.js';

export type SubscriptionMap = Record<string, string[]>;

export class SubscriptionSet {
  private readonly channels = new Map<string, Set<string>>();

  constructor(private readonly endpoint: MarketDataEndpoint) {}

  clone(): SubscriptionSet {
    const copy = new SubscriptionSet(this.endpoint);
    for (const [channel, symbols] of this.channels) copy.channels.set(channel, new Set(symbols));
    return copy;
  }

  add(channel: string, symbols: readonly string[]): void {
    let set = this.channels.get(channel);
    if (!set) {
      set = new Set();
      this.channels.set(channel, set);
    }
    for (const symbol of symbols) set.add(symbol);
  }

  remove(channel: string, symbols: readonly string[]): void {
    const set = this.channels.get(channel);
    if (!set) return;
    for (const symbol of symbols) set.delete(symbol);
  }

  symbols(channel: string): ReadonlySet<string> {
    return this.channels.get(channel) ?? EMPTY;
  }

  /** True when this set delivers `symbol` on `channel` (explicitly or through `*`). */
  has(channel: string, symbol: string): boolean {
    const set = this.channels.get(channel);
    return set !== undefined && (set.has(symbol) || set.has('*'));
  }

  isEmpty(): boolean {
    for (const set of this.channels.values()) if (set.size > 0) return false;
    return true;
  }

  /** Distinct entries across trades and quotes: what the symbol limit counts (`*` counts as one entry). */
  tradeQuoteCount(): number {
    return new Set([...this.symbols('trades'), ...this.symbols('quotes')]).size;
  }

  /** The full set as Alpaca's ack lists it: every channel of the endpoint, derived channels following trades. */
  /** The ack's channel lists; `omitEmpty`: leave out the empty ones, as real acks may. */
  toAck(omitEmpty = false): SubscriptionMap {
    const ack: SubscriptionMap = {};
    const trades = [...this.symbols('trades')];
    for (const channel of this.endpoint.ackChannels) {
      const list = (DERIVED_FROM_TRADES as readonly string[]).includes(channel)
        ? [...trades]
        : [...this.symbols(channel)];
      if (list.length > 0 || !omitEmpty) ack[channel] = list;
    }
    return ack;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
