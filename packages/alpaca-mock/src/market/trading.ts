/**
 * Synthetic account activity for the `/stream` trade_updates stream: orders walk through new -> partial_fill ->
 * fill, one event every `everyTicks` ticks while someone listens. Events are single JSON objects (not arrays).
 */
import { hashSeed, Random, roundTo } from '../random.js';
import type { NanoTime } from '../time.js';
import type { SyntheticClock } from './clock.js';

export interface TradeUpdate {
  stream: 'trade_updates';
  data: Record<string, unknown>;
}

interface OpenOrder {
  id: string;
  clientOrderId: string;
  symbol: string;
  side: 'buy' | 'sell';
  qty: number;
  filled: number;
  price: number;
  createdAt: NanoTime;
  step: number;
}

export class TradingActivity {
  private readonly rng: Random;
  private order: OpenOrder | null = null;
  private position = new Map<string, number>();
  private executions = 0;

  constructor(
    seed: number,
    private readonly clock: SyntheticClock,
    private readonly symbols: readonly string[],
    private readonly everyTicks: number,
  ) {
    this.rng = new Random(hashSeed(seed, 'trading'));
  }

  step(tick: number): TradeUpdate | null {
    if (tick % this.everyTicks !== 0) return null;
    const t = this.clock.timeOf(tick);
    if (!this.order) {
      this.order = {
        id: this.rng.uuid(),
        clientOrderId: this.rng.uuid(),
        symbol: this.rng.pick(this.symbols.length > 0 ? this.symbols : ['AAPL']),
        side: this.rng.chance(0.5) ? 'buy' : 'sell',
        qty: this.rng.int(2, 100),
        filled: 0,
        price: roundTo(20 + this.rng.next() * 480, 2),
        createdAt: t,
        step: 0,
      };
      return this.event('new', t, null);
    }
    const order = this.order;
    const remaining = order.qty - order.filled;
    const qty = order.step === 0 ? Math.max(1, Math.floor(remaining / 2)) : remaining;
    order.filled += qty;
    order.step += 1;
    const done = order.filled >= order.qty;
    const signed = order.side === 'buy' ? qty : -qty;
    this.position.set(order.symbol, (this.position.get(order.symbol) ?? 0) + signed);
    const update = this.event(done ? 'fill' : 'partial_fill', t, qty);
    if (done) this.order = null;
    return update;
  }

  private event(name: string, t: NanoTime, qty: number | null): TradeUpdate {
    const order = this.order as OpenOrder;
    const status = name === 'fill' ? 'filled' : name === 'partial_fill' ? 'partially_filled' : 'new';
    const orderObject = {
      id: order.id,
      client_order_id: order.clientOrderId,
      created_at: order.createdAt.toString(),
      updated_at: t.toString(),
      submitted_at: order.createdAt.toString(),
      filled_at: name === 'fill' ? t.toString() : null,
      asset_class: 'us_equity',
      symbol: order.symbol,
      qty: String(order.qty),
      filled_qty: String(order.filled),
      filled_avg_price: order.filled > 0 ? String(order.price) : null,
      order_type: 'limit',
      type: 'limit',
      side: order.side,
      time_in_force: 'day',
      limit_price: String(order.price),
      status,
      extended_hours: false,
    };
    const data: Record<string, unknown> = { event: name, timestamp: t.toString(), order: orderObject };
    if (qty !== null) {
      data.price = String(order.price);
      data.qty = String(qty);
      data.position_qty = String(this.position.get(order.symbol) ?? 0);
      data.execution_id = `exec-${++this.executions}`;
    }
    return { stream: 'trade_updates', data };
  }
}
