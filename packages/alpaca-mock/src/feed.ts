/**
 * The data pump. While at least one session wants data it fires every `batchSize * 1000 / rate` ms, generates
 * `batchSize` ticks of the synthetic market for exactly the symbols someone wants, and hands each session the
 * events of its market. When demand goes, the timer goes: idle means idle.
 */
import type { AccountSession } from './account-session.js';
import type { MarketId } from './endpoints.js';
import type { MarketEvent, SyntheticMarket } from './market/index.js';
import type { TradeUpdate } from './market/trading.js';
import type { MarketDataSession } from './market-data-session.js';
import type { ResolvedOptions } from './options.js';

export interface FeedSessions {
  marketData(): Iterable<MarketDataSession>;
  accounts(): Iterable<AccountSession>;
}

export class Feed {
  private timer: NodeJS.Timeout | null = null;
  private readonly periodMs: number;
  /** Ticks generated so far (the synthetic clock's position). */
  ticks = 0;

  constructor(
    private readonly market: SyntheticMarket,
    private readonly options: ResolvedOptions,
    private readonly sessions: FeedSessions,
    /** Told after every firing (and when the timer stops for lack of demand): inspection waiters re-check. */
    private readonly onFired: () => void = () => {},
  ) {
    this.periodMs = (options.batchSize * 1000) / options.rate;
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /** Someone's demand may have appeared: make sure the timer runs. */
  wake(): void {
    if (this.timer || !this.hasDemand()) return;
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.fire(), this.periodMs);
  }

  private hasDemand(): boolean {
    for (const s of this.sessions.marketData()) if (s.hasDemand()) return true;
    for (const s of this.sessions.accounts()) if (s.hasDemand()) return true;
    return false;
  }

  private fire(): void {
    this.timer = null;
    const demand = new Map<MarketId, Set<string>>();
    const byMarket = new Map<MarketId, MarketDataSession[]>();
    for (const session of this.sessions.marketData()) {
      if (!session.hasDemand()) continue;
      const id = session.endpointInfo.market;
      let symbols = demand.get(id);
      if (!symbols) {
        symbols = new Set();
        demand.set(id, symbols);
        byMarket.set(id, []);
      }
      session.demand(symbols);
      byMarket.get(id)?.push(session);
    }
    const listeners = [...this.sessions.accounts()].filter((s) => s.hasDemand());
    if (demand.size === 0 && listeners.length === 0) {
      this.onFired();
      return;
    }

    const events = new Map<MarketId, MarketEvent[]>();
    for (const id of demand.keys()) events.set(id, []);
    const updates: TradeUpdate[] = [];
    for (let n = 0; n < this.options.batchSize; n++) {
      const tick = this.ticks++;
      this.market.clock.tick = tick;
      for (const [id, symbols] of demand) {
        const market = this.market.market(id);
        const active = market.universeOnly
          ? new Set([...symbols].filter((s) => market.universe.includes(s)))
          : symbols;
        market.step(tick, active, events.get(id) as MarketEvent[]);
      }
      if (listeners.length > 0) {
        const update = this.market.trading.step(tick);
        if (update) updates.push(update);
      }
    }
    for (const [id, sessions] of byMarket) {
      const list = events.get(id) as MarketEvent[];
      for (const session of sessions) session.deliver(list);
    }
    for (const update of updates) for (const session of listeners) session.deliver(update);
    if (this.hasDemand()) this.schedule();
    this.onFired();
  }
}
