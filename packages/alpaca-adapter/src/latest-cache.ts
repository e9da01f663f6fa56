// The latest trade, quote and bar per symbol (raw item bytes, as Alpaca sent them) and, for crypto, the order book
// per symbol. A client that subscribes to a symbol others already have gets these at once, instead of waiting for
// the next event (Alpaca itself sends nothing on a subscription the session already had).

import type { Encoding } from './feeds.js';
import type { FrameItems } from './frame-items.js';
import { OrderBook, type OrderbookMessage } from './order-book.js';
import { decodeRaw } from './wire.js';

/** The item types worth replaying, and the channel that asks for each. */
export const REPLAYED_TYPES: Readonly<Record<string, string>> = { t: 'trades', q: 'quotes', b: 'bars' };
const CHANNEL_TO_TYPE: Readonly<Record<string, string>> = { trades: 't', quotes: 'q', bars: 'b' };

/** A slot pointing into a received frame: no copy on the hot path (frames are small and fresh per message). */
interface Slot {
  frame: Buffer;
  start: number;
  end: number;
}

export class LatestCache {
  private readonly encoding: Encoding;
  private readonly trackBooks: boolean;
  /** type -> symbol -> slot */
  private readonly latest = new Map<string, Map<string, Slot>>();
  private readonly books = new Map<string, OrderBook>();
  /** Order-book messages that could not be decoded (malformed): counted, never silently dropped. */
  malformedBookMessages = 0;

  constructor(options: { encoding: Encoding; trackOrderBooks: boolean }) {
    this.encoding = options.encoding;
    this.trackBooks = options.trackOrderBooks;
    for (const type of Object.keys(REPLAYED_TYPES)) this.latest.set(type, new Map());
  }

  /** Records the replayable items of a routed frame. `frame` must not be reused by the caller afterwards. */
  observe(frame: Buffer, items: FrameItems): void {
    for (let k = 0; k < items.count; k++) {
      const type = items.type[k]!;
      const perType = this.latest.get(type);
      if (perType) {
        const symbol = items.symbol[k]!;
        const slot = perType.get(symbol);
        if (slot) {
          slot.frame = frame;
          slot.start = items.start[k]!;
          slot.end = items.end[k]!;
        } else {
          perType.set(symbol, { frame, start: items.start[k]!, end: items.end[k]! });
        }
      } else if (type === 'o' && this.trackBooks) {
        this.applyBook(frame.subarray(items.start[k]!, items.end[k]!));
      }
    }
  }

  private applyBook(bytes: Buffer): void {
    let message: OrderbookMessage;
    try {
      message = decodeRaw(bytes, this.encoding) as OrderbookMessage;
    } catch {
      this.malformedBookMessages++;
      return;
    }
    if (typeof message?.S !== 'string') return;
    let book = this.books.get(message.S);
    if (!book) {
      book = new OrderBook(message.S);
      this.books.set(message.S, book);
    }
    book.apply(message);
  }

  /** The raw bytes of the latest item that `channel` would deliver for `symbol`, if any. */
  latestItem(channel: string, symbol: string): Buffer | undefined {
    const type = CHANNEL_TO_TYPE[channel];
    if (!type) return undefined;
    const slot = this.latest.get(type)?.get(symbol);
    return slot ? slot.frame.subarray(slot.start, slot.end) : undefined;
  }

  /** A synthetic `r:true` snapshot of the book, if a complete one is known. */
  bookSnapshot(symbol: string): OrderbookMessage | undefined {
    const book = this.books.get(symbol);
    return book?.isComplete ? book.snapshot() : undefined;
  }

  /** The upstream no longer carries (channel, symbol): what we have would go stale, so forget it. */
  forget(channel: string, symbol: string): void {
    if (channel === 'orderbooks') {
      if (symbol === '*') this.books.clear();
      else this.books.delete(symbol);
      return;
    }
    const type = CHANNEL_TO_TYPE[channel];
    if (!type) return;
    if (symbol === '*') this.latest.get(type)?.clear();
    else this.latest.get(type)?.delete(symbol);
  }

  /** Everything is stale after an upstream drop (Alpaca does not replay what was missed). */
  clear(): void {
    for (const perType of this.latest.values()) perType.clear();
    this.books.clear();
  }
}
