/**
 * The whole synthetic market: one clock, one market per asset class (stock feeds share one; the test feed has its
 * own with FAKEPACA only) and the account activity. Ticks are generated only when asked, by the feed, which asks
 * only while someone is subscribed.
 */
import type { MarketId } from '../endpoints.js';
import type { ResolvedOptions } from '../options.js';
import { SyntheticClock } from './clock.js';
import { CryptoMarket } from './crypto.js';
import { NewsMarket } from './news.js';
import { OptionMarket } from './options.js';
import { StockMarket } from './stocks.js';
import { TradingActivity } from './trading.js';
import type { AssetMarket } from './types.js';

export const TEST_SYMBOL = 'FAKEPACA';

export class SyntheticMarket {
  readonly clock: SyntheticClock;
  readonly stocks: StockMarket;
  readonly testStocks: StockMarket;
  readonly crypto: CryptoMarket;
  readonly options: OptionMarket;
  readonly news: NewsMarket;
  readonly trading: TradingActivity;
  private readonly byId: ReadonlyMap<MarketId, AssetMarket>;

  constructor(options: ResolvedOptions) {
    const { seed, symbols } = options;
    this.clock = new SyntheticClock(options.startTime, options.tickMs);
    this.stocks = new StockMarket(seed, 'stocks', this.clock, symbols.stocks, false);
    this.testStocks = new StockMarket(seed, 'stocks-test', this.clock, [TEST_SYMBOL], true);
    this.crypto = new CryptoMarket(seed, this.clock, symbols.crypto);
    this.options = new OptionMarket(seed, this.clock, symbols.options);
    this.news = new NewsMarket(seed, this.clock, symbols.stocks, options.newsEveryTicks);
    this.trading = new TradingActivity(seed, this.clock, symbols.stocks, options.tradeUpdateEveryTicks);
    this.byId = new Map<MarketId, AssetMarket>([
      ['stocks', this.stocks],
      ['stocks-test', this.testStocks],
      ['crypto', this.crypto],
      ['options', this.options],
      ['news', this.news],
    ]);
  }

  market(id: MarketId): AssetMarket {
    return this.byId.get(id) as AssetMarket;
  }
}

export type { AssetMarket, MarketEvent } from './types.js';
