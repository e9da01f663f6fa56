/**
 * One market-data connection: Alpaca's handshake, auth (by message or by upgrade headers), (un)subscribe with
 * its error codes, the full-set ack, the unsubscribe tail, and delivery of the feed's events it asked for.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { type StreamErrorCode, streamError, success } from './alpaca-errors.js';
import { decodeFrame, type Encoding, encodeFrame } from './codec.js';
import { KNOWN_CHANNELS, type MarketDataEndpoint } from './endpoints.js';
import type { MarketEvent } from './market/index.js';
import { BaseSession, type SessionHost } from './session.js';
import { type SubscriptionMap, SubscriptionSet } from './subscriptions.js';

/** Large batches are split so one frame stays a sensible size, as the real service does. */
const MAX_MESSAGES_PER_FRAME = 1000;

export interface HeaderCredentials {
  key: string;
  secret: string;
}

interface SubscriptionRequest {
  action: 'subscribe' | 'unsubscribe';
  channels: Map<string, string[]>;
}

export class MarketDataSession extends BaseSession {
  readonly kind = 'market-data' as const;
  readonly subs: SubscriptionSet;
  /** `channel \0 symbol` -> wall-clock expiry of data still flowing after an unsubscribe. */
  private readonly tail = new Map<string, number>();
  /** The data messages (not control) actually sent, for `sentData()`. */
  private readonly dataMessages: unknown[] = [];

  constructor(
    id: number,
    override readonly endpointInfo: MarketDataEndpoint,
    encoding: Encoding,
    ws: WebSocket,
    socket: Socket,
    host: SessionHost,
    private readonly snapshots: (symbols: readonly string[]) => Record<string, unknown>[],
    private readonly universe: readonly string[],
  ) {
    super(id, endpointInfo, encoding, ws, socket, host);
    this.subs = new SubscriptionSet(endpointInfo);
  }

  /** Called once the upgrade completed. */
  start(headerCredentials: HeaderCredentials | null): void {
    if (this.endpointInfo.msgpackOnly && this.encoding !== 'msgpack') {
      this.sendControl(streamError(412));
      this.ws.close(1003, 'msgpack only');
      return;
    }
    this.sendControl(success('connected'));
    if (headerCredentials) this.authenticate(headerCredentials.key, headerCredentials.secret);
    if (!this.authenticated) {
      this.startAuthTimer(() => {
        this.sendControl(streamError(404));
        this.ws.close(1008, 'auth timeout');
      });
    }
  }

  subscriptions(): SubscriptionMap {
    return this.subs.toAck();
  }

  sentData(): unknown[] {
    return this.dataMessages;
  }

  hasDemand(): boolean {
    if (!this.authenticated || this.closed) return false;
    return !this.subs.isEmpty() || this.liveTail().size > 0;
  }

  /** Symbols this session needs generated (its subscriptions plus live tail), `*` expanded to the universe. */
  demand(into: Set<string>): void {
    const addSymbol = (symbol: string) => {
      if (symbol === '*') for (const s of this.universe) into.add(s);
      else into.add(symbol);
    };
    for (const channel of this.endpointInfo.subscribable)
      for (const s of this.subs.symbols(channel)) addSymbol(s);
    for (const key of this.liveTail().keys()) addSymbol(key.slice(key.indexOf('\0') + 1));
  }

  /** Sends the events of one feed firing that this session subscribed to (or is still in its tail). */
  deliver(events: readonly MarketEvent[]): void {
    if (!this.authenticated || this.closed) return;
    const tail = this.liveTail();
    const out: unknown[] = [];
    for (const event of events) {
      if (this.wants(event, tail)) out.push(event.message);
    }
    for (let i = 0; i < out.length; i += MAX_MESSAGES_PER_FRAME) {
      this.sendData(out.slice(i, i + MAX_MESSAGES_PER_FRAME));
    }
  }

  private wants(event: MarketEvent, tail: ReadonlyMap<string, number>): boolean {
    // corrections and cancelErrors follow trades.
    const channel =
      event.channel === 'corrections' || event.channel === 'cancelErrors' ? 'trades' : event.channel;
    if (event.symbols) {
      for (const symbol of event.symbols) {
        if (this.subs.has(channel, symbol) || tail.has(`${channel}\0${symbol}`)) return true;
      }
      return this.subs.has(channel, '*') || tail.has(`${channel}\0*`);
    }
    return (
      this.subs.has(channel, event.symbol) ||
      (tail.size > 0 && (tail.has(`${channel}\0${event.symbol}`) || tail.has(`${channel}\0*`)))
    );
  }

  private liveTail(): ReadonlyMap<string, number> {
    if (this.tail.size === 0) return this.tail;
    const now = Date.now();
    for (const [key, until] of this.tail) if (until <= now) this.tail.delete(key);
    return this.tail;
  }

  push(messages: readonly unknown[]): void {
    this.sendData([...messages]);
  }

  slowClient(): void {
    if (this.closed) return;
    const frame = encodeFrame([streamError(407)], this.encoding);
    this.sentRecord.add(streamError(407));
    this.ws.send(frame, { binary: this.encoding === 'msgpack' });
    this.closeWithin(1008, 'slow client');
  }

  protected internalError(): void {
    this.sendControl(streamError(500));
  }

  protected onFrame(data: Buffer | Buffer[], isBinary: boolean): void {
    let message: unknown;
    try {
      // SDKs send msgpack binary frames on msgpack sessions; text frames are always JSON.
      message = decodeFrame(data, isBinary && this.encoding === 'msgpack' ? 'msgpack' : 'json');
    } catch {
      this.receivedRecord.add(null);
      this.sendControl(streamError(400));
      return;
    }
    this.receivedRecord.add(message);
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.sendControl(streamError(400));
      return;
    }
    const fields = message as Record<string, unknown>;
    switch (fields.action) {
      case 'auth':
        this.onAuth(fields);
        return;
      case 'subscribe':
      case 'unsubscribe':
        this.onSubscription(fields.action, fields);
        return;
      default:
        this.sendControl(streamError(400));
    }
  }

  private onAuth(fields: Record<string, unknown>): void {
    if (typeof fields.key !== 'string' || typeof fields.secret !== 'string') {
      this.sendControl(streamError(400));
      return;
    }
    if (this.authenticated) {
      this.sendControl(streamError(403));
      return;
    }
    this.authenticate(fields.key, fields.secret);
  }

  private authenticate(key: string, secret: string): void {
    const outcome = this.host.authenticate(this, key, secret, 'data');
    if (outcome !== 'ok') {
      // Like Alpaca on 406, the socket stays open; the auth timeout still applies.
      this.sendControl(streamError(outcome));
      return;
    }
    this.stopAuthTimer();
    this.sendControl(success('authenticated'));
  }

  private onSubscription(action: 'subscribe' | 'unsubscribe', fields: Record<string, unknown>): void {
    if (!this.authenticated) {
      this.sendControl(streamError(401));
      return;
    }
    const parsed = this.parseRequest(action, fields);
    if (typeof parsed === 'number') {
      this.sendControl(streamError(parsed));
      return;
    }
    const next = this.subs.clone();
    for (const [channel, symbols] of parsed.channels) {
      if (action === 'subscribe') next.add(channel, symbols);
      else next.remove(channel, symbols);
    }
    if (action === 'subscribe' && next.tradeQuoteCount() > this.host.options.symbolLimit) {
      // The whole request is rejected; the set stays exactly as it was.
      this.sendControl(streamError(405));
      return;
    }
    const newBooks: string[] = [];
    if (action === 'subscribe') {
      const books = parsed.channels.get('orderbooks') ?? [];
      for (const symbol of books.includes('*') ? this.universe : books) {
        if (!this.subs.has('orderbooks', symbol)) newBooks.push(symbol);
      }
    } else {
      this.startTail(parsed.channels);
    }
    this.commit(next);
    this.sendControl({ T: 'subscription', ...this.subs.toAck(this.host.options.acks === 'omit-empty') });
    // The first orderbook message after subscribing is a full r:true snapshot; deltas follow from the feed.
    if (newBooks.length > 0) this.sendData(this.snapshots([...new Set(newBooks)]));
    this.host.demandChanged(this);
  }

  private commit(next: SubscriptionSet): void {
    for (const channel of this.endpointInfo.subscribable) {
      const current = [...this.subs.symbols(channel)];
      this.subs.remove(channel, current);
      this.subs.add(channel, [...next.symbols(channel)]);
    }
  }

  private startTail(channels: Map<string, string[]>): void {
    const tailMs = this.host.options.unsubscribeTailMs;
    if (tailMs <= 0) return;
    const until = Date.now() + tailMs;
    for (const [channel, symbols] of channels) {
      for (const symbol of symbols) {
        if (this.subs.symbols(channel).has(symbol)) this.tail.set(`${channel}\0${symbol}`, until);
      }
    }
  }

  /** Validates a request as a whole: syntax (400) first, then channel/feed (410), then option-quote star (413). */
  private parseRequest(
    action: 'subscribe' | 'unsubscribe',
    fields: Record<string, unknown>,
  ): SubscriptionRequest | StreamErrorCode {
    const channels = new Map<string, string[]>();
    let invalidChannel = false;
    let starOptionQuotes = false;
    for (const [name, value] of Object.entries(fields)) {
      if (name === 'action' || !KNOWN_CHANNELS.has(name)) continue;
      if (value === null || value === undefined) continue;
      if (!Array.isArray(value) || value.some((s) => typeof s !== 'string')) return 400;
      const symbols = value as string[];
      for (const symbol of symbols) {
        if (symbol !== '*' && !this.endpointInfo.symbolPattern.test(symbol)) return 400;
      }
      if (symbols.length === 0) continue;
      if (!this.endpointInfo.subscribable.has(name)) {
        // corrections/cancelErrors are derived from trades on stock feeds: asking for them is harmless.
        if (
          (name === 'corrections' || name === 'cancelErrors') &&
          this.endpointInfo.assetClass === 'stocks'
        ) {
          continue;
        }
        invalidChannel = true;
        continue;
      }
      if (this.endpointInfo.assetClass === 'options' && name === 'quotes' && symbols.includes('*')) {
        starOptionQuotes = true;
      }
      channels.set(name, [...new Set(symbols)]);
    }
    if (invalidChannel) return 410;
    if (starOptionQuotes && action === 'subscribe') return 413;
    return { action, channels };
  }

  private sendControl(message: object): void {
    if (this.writeFrame(encodeFrame([message], this.encoding), 1, this.encoding === 'msgpack')) {
      this.sentRecord.add(message);
    }
  }

  /** Records only what really went out: a stalled session's withheld messages are counted in stats instead. */
  private sendData(messages: unknown[]): void {
    if (messages.length === 0) return;
    const frame = encodeFrame(messages, this.encoding, this.endpointInfo.assetClass);
    if (!this.writeFrame(frame, messages.length, this.encoding === 'msgpack')) return;
    for (const message of messages) {
      this.sentRecord.add(message);
      if (this.dataMessages.length < this.host.options.recordLimit) this.dataMessages.push(message);
    }
  }
}
