// What a strategy imports: a typed Alpaca stream on top of a shared wsproxy socket. Subscribing goes through the
// daemon's alpaca adapter (deduplicated with every other process), and the answer is this process's OWN ack.

import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from '@msgpack/msgpack';
import type { ConnectOptions, WsproxyClient } from '@wsproxy/client';
import { type AlpacaCredentials, credentialsFromEnv } from './auth.js';
import { AlpacaRejectedError, InvalidArgumentError, StreamClosedError } from './errors.js';
import { type Encoding, type FeedKind, feedByName } from './feeds.js';
import {
  type AccountMessage,
  type Bar,
  type CancelError,
  type Correction,
  type CryptoQuote,
  type CryptoTrade,
  type ErrorMessage,
  EVENT_OF_TYPE,
  type Imbalance,
  type Luld,
  type MarketDataMessage,
  type News,
  type OptionQuote,
  type OptionTrade,
  type Orderbook,
  type PerpPricing,
  type StockQuote,
  type StockTrade,
  type SubscriptionMessage,
  type SubscriptionSet,
  type TradeUpdate,
  type TradingStatus,
} from './types.js';
import { decodeForClient } from './wire.js';

const PACKAGE_NAME = '@wsproxy/alpaca-adapter';

/** The part of `@wsproxy/client`'s SharedSocket the stream uses (anything with this shape works, e.g. in tests). */
export interface AlpacaTransport {
  subscribe(
    params: string | Uint8Array,
  ): Promise<{ readonly alreadySubscribed: boolean; readonly reply: Uint8Array }>;
  unsubscribe(
    params: string | Uint8Array,
  ): Promise<{ readonly stillSubscribed: boolean; readonly reply: Uint8Array }>;
  on(event: 'message', listener: (message: { binary: boolean; data: string | Uint8Array }) => void): unknown;
  on(
    event: 'reconnecting' | 'reconnected' | 'gap' | 'close' | 'error',
    listener: (info: never) => void,
  ): unknown;
  close(): Promise<void>;
  /**
   * The socket's acknowledged subscription state as the daemon last stated it (`SharedSocket.subscriptionState`): the
   * adapter's set as JSON. When present, `AlpacaStream.subscriptions` is derived from it, so the process's view is
   * the daemon's, also after the daemon restored it on a restart.
   */
  readonly subscriptionState?: Uint8Array | null;
}

export interface AlpacaStreamEvents {
  trade: [message: StockTrade | CryptoTrade | OptionTrade];
  quote: [message: StockQuote | CryptoQuote | OptionQuote];
  bar: [message: Bar];
  dailyBar: [message: Bar];
  updatedBar: [message: Bar];
  status: [message: TradingStatus];
  luld: [message: Luld];
  correction: [message: Correction];
  cancelError: [message: CancelError];
  imbalance: [message: Imbalance];
  orderbook: [message: Orderbook];
  news: [message: News];
  /** crypto-perps: index/mark price, funding rate, open interest. */
  pricing: [message: PerpPricing];
  /** A data item of a type this version does not know yet (kept whole, every field as Alpaca sent it). */
  unknown: [message: Readonly<Record<string, unknown>>];
  /** Every data message, whatever its kind. */
  message: [message: MarketDataMessage];
  /** An Alpaca error not tied to a request (e.g. 407 slow client). */
  alpacaError: [message: ErrorMessage];
  /** wsproxy connection events, passed through from the shared socket. */
  reconnecting: [info: unknown];
  reconnected: [info: unknown];
  gap: [info: unknown];
  close: [info: unknown];
  error: [error: Error];
}

export interface AlpacaStreamOptions {
  /**
   * Which stream: stocks `iex` (default), `sip`, `delayed_sip`, `otc`, `test`, `boats`, `overnight`; crypto
   * `crypto` (= `crypto/us`), `crypto/us-1`, `crypto/us-2`, `crypto/bs-1`, `crypto/eu-1`; crypto perpetual futures
   * `crypto-perps` (= `crypto-perps/global`); options `indicative`, `opra`; `news`.
   */
  readonly feed?: string;
  /** Full stream URL (overrides `feed` and `baseUrl`), e.g. the mock's `ws://127.0.0.1:PORT/v2/iex`. */
  readonly url?: string;
  /** Stream host. Default `$APCA_API_STREAM_URL` or `wss://stream.data.alpaca.markets`. */
  readonly baseUrl?: string;
  /** Default from `APCA_API_KEY_ID` / `APCA_API_SECRET_KEY`. */
  readonly credentials?: AlpacaCredentials;
  /** Upstream encoding. Default msgpack (as every official SDK; options accept nothing else). */
  readonly encoding?: Encoding;
  /** An existing wsproxy client to open the socket on (it stays open on close()). Default: connect a new one. */
  readonly client?: Pick<WsproxyClient, 'open'>;
  /** Options for the wsproxy client this stream connects when none is given. */
  readonly connectOptions?: ConnectOptions;
  /** Data messages buffered per async iterator before the oldest are dropped (and counted). Default 100 000. */
  readonly iteratorBuffer?: number;
}

/** Where a feed name points: the URL path and the kind of stream (see ALPACA_FEEDS). */
export function feedPath(feed: string): { path: string; kind: FeedKind } {
  const known = feedByName(feed);
  if (known) return { ...known };
  throw new InvalidArgumentError(
    `feed must be a known Alpaca feed (iex, sip, otc, crypto, crypto/us-1, crypto-perps, opra, news, ...), got ${feed}`,
  );
}

/**
 * This package's daemon entry, by absolute path so the daemon can load it wherever it is installed: the `--adapter`
 * argument for a daemon this process spawns, and the `adapterModule` of every open (for a daemon someone else
 * started without it).
 */
export function daemonAdapterArgument(): string {
  try {
    const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
    const candidate = here.replace(/[^/\\]+$/, 'daemon.js');
    // Only this package's own dist/daemon.js: bundled into an app, "the daemon.js beside this file" could be the
    // app's own, and the daemon would import it.
    if (candidate !== here && existsSync(candidate) && isThisPackage(join(dirname(candidate), '..')))
      return candidate;
  } catch {
    // fall through to the package specifier
  }
  return '@wsproxy/alpaca-adapter/daemon';
}

function isThisPackage(dir: string): boolean {
  try {
    return (
      (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name ===
      PACKAGE_NAME
    );
  } catch {
    return false;
  }
}

function resolveCredentials(given: AlpacaCredentials | undefined): AlpacaCredentials {
  const credentials = given ?? credentialsFromEnv();
  if (!credentials) {
    throw new InvalidArgumentError(
      'credentials must be given, or APCA_API_KEY_ID and APCA_API_SECRET_KEY set',
    );
  }
  return credentials;
}

/**
 * Opens `url` through the Alpaca adapter of a wsproxy daemon: on the caller's client, or on one of our own that
 * spawns the daemon with this package's adapter. `onClose` closes that own client with the stream; a caller's
 * client stays open.
 */
async function openAlpacaSocket(
  url: string,
  credentials: AlpacaCredentials,
  options: Pick<AlpacaStreamOptions, 'client' | 'connectOptions'>,
  headers?: Record<string, string>,
): Promise<{ socket: AlpacaTransport; onClose: (() => Promise<void>) | undefined }> {
  let client = options.client;
  let ownClient: WsproxyClient | undefined;
  if (!client) {
    const { connect } = await import('@wsproxy/client');
    const connectOptions = options.connectOptions ?? {};
    ownClient = await connect({
      ...connectOptions,
      daemonArgs: [...(connectOptions.daemonArgs ?? []), '--adapter', daemonAdapterArgument()],
    });
    client = ownClient;
  }
  // The module too, so a daemon that someone else started without `--adapter` loads it for us (once, for everyone).
  const socket = await client.open(url, {
    adapter: 'alpaca',
    adapterModule: daemonAdapterArgument(),
    credentials: { key: credentials.keyId, secret: credentials.secretKey },
    ...(headers ? { headers } : {}),
  });
  return { socket, onClose: ownClient ? () => (ownClient as WsproxyClient).close() : undefined };
}

/** Decodes whatever arrives (JSON text, JSON in binary frames, msgpack) into an array of messages. */
function decodeMessages(data: string | Uint8Array, binary: boolean): Record<string, unknown>[] {
  const decoded = decodeForClient(data, binary);
  return (Array.isArray(decoded) ? decoded : [decoded]) as Record<string, unknown>[];
}

/** One bounded queue per async iterator: slow iteration drops the oldest and counts it, never silently. */
class MessageQueue<T> {
  private readonly items: T[] = [];
  private waiter: ((result: IteratorResult<T>) => void) | undefined;
  private done = false;
  dropped = 0;

  constructor(private readonly limit: number) {}

  push(item: T): void {
    if (this.done) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: item, done: false });
      return;
    }
    this.items.push(item);
    if (this.items.length > this.limit) {
      this.items.shift();
      this.dropped++;
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  end(): void {
    this.done = true;
    this.items.length = 0;
    this.waiter?.({ value: undefined, done: true });
    this.waiter = undefined;
  }
}

/** A typed Alpaca market-data stream shared through wsproxy. */
export class AlpacaStream
  extends EventEmitter<AlpacaStreamEvents>
  implements AsyncIterable<MarketDataMessage>
{
  readonly kind: FeedKind;
  private readonly transport: AlpacaTransport;
  private readonly encoding: Encoding;
  private readonly iteratorBuffer: number;
  private readonly onClose: (() => Promise<void>) | undefined;
  private readonly queues = new Set<MessageQueue<MarketDataMessage>>();
  private current: Readonly<Record<string, readonly string[]>> = {};
  /** The last state parsed, and what it parsed to (the getter is called often; states change rarely). */
  private parsedState:
    | { readonly from: Uint8Array; readonly set: Record<string, readonly string[]> }
    | undefined;
  private closed = false;

  /** Opens a stream: connects to (or spawns) the wsproxy daemon and joins the shared Alpaca session. */
  static async connect(options: AlpacaStreamOptions = {}): Promise<AlpacaStream> {
    const { path, kind } = feedPath(options.feed ?? 'iex');
    const url =
      options.url ??
      `${(options.baseUrl ?? process.env.APCA_API_STREAM_URL ?? 'wss://stream.data.alpaca.markets').replace(/\/+$/, '')}${path}`;
    const credentials = resolveCredentials(options.credentials);
    const encoding = kind === 'options' ? 'msgpack' : (options.encoding ?? 'msgpack');
    const { socket, onClose } = await openAlpacaSocket(url, credentials, options, {
      'Content-Type': encoding === 'msgpack' ? 'application/msgpack' : 'application/json',
    });
    return new AlpacaStream(socket, {
      kind,
      encoding,
      ...(options.iteratorBuffer === undefined ? {} : { iteratorBuffer: options.iteratorBuffer }),
      ...(onClose ? { onClose } : {}),
    });
  }

  constructor(
    transport: AlpacaTransport,
    options: { kind: FeedKind; encoding?: Encoding; iteratorBuffer?: number; onClose?: () => Promise<void> },
  ) {
    super();
    this.transport = transport;
    this.kind = options.kind;
    this.encoding = options.encoding ?? 'msgpack';
    this.iteratorBuffer = options.iteratorBuffer ?? 100_000;
    this.onClose = options.onClose;
    transport.on('message', (m) => this.receive(m.data, m.binary));
    for (const event of ['reconnecting', 'gap'] as const) {
      transport.on(event, (info: never) => this.emit(event, info));
    }
    transport.on('reconnected', (info: never) => {
      this.emit('reconnected', info);
      // After a daemon restart the new daemon restored our acknowledged set; if Alpaca refused part of it (e.g. 405
      // because the union outgrew the limit), `subscriptions` already says what holds, and this says why.
      const reply = (info as { restored?: { reply?: Uint8Array } | null }).restored?.reply;
      if (!reply || reply.length === 0) return;
      for (const m of decodeMessages(reply, true))
        if (m.T === 'error') this.emit('alpacaError', m as unknown as ErrorMessage);
    });
    transport.on('close', (info: never) => {
      this.finish();
      this.emit('close', info);
    });
    transport.on('error', (error: never) => {
      if (this.listenerCount('error') > 0) this.emit('error', error as Error);
    });
  }

  /**
   * This process's current subscriptions: its acknowledged set as the daemon holds it (the same state the daemon
   * restores after a restart and `wsproxy status` shows), in the shape of Alpaca's ack without `T`.
   */
  get subscriptions(): Readonly<Record<string, readonly string[]>> {
    const state = this.transport.subscriptionState;
    if (!state || state.length === 0) return this.current;
    if (this.parsedState?.from !== state) {
      const set: Record<string, readonly string[]> = {};
      const decoded = decodeForClient(state, true) as Record<string, unknown>;
      for (const [key, value] of Object.entries(decoded)) if (Array.isArray(value)) set[key] = value;
      this.parsedState = { from: state, set };
    }
    return this.parsedState.set;
  }

  /**
   * Subscribes (adds to this process's set). Resolves with this process's own ack; rejects with AlpacaRejectedError
   * (e.g. 405 symbol limit) — the set then stays as it was. `snapshot: true`: the latest trade/quote/bar of the new
   * symbols arrive before live data.
   */
  subscribe(set: SubscriptionSet, options: { snapshot?: boolean } = {}): Promise<SubscriptionMessage> {
    return this.change('subscribe', set, options.snapshot === true);
  }

  /** Unsubscribes (removes from this process's set); data for those symbols stops at once. */
  unsubscribe(set: SubscriptionSet): Promise<SubscriptionMessage> {
    return this.change('unsubscribe', set, false);
  }

  private async change(
    action: 'subscribe' | 'unsubscribe',
    set: SubscriptionSet,
    snapshot: boolean,
  ): Promise<SubscriptionMessage> {
    if (this.closed) throw new StreamClosedError();
    if (typeof set !== 'object' || set === null)
      throw new InvalidArgumentError('subscriptions must be an object');
    const message: Record<string, unknown> = { action, ...set };
    if (snapshot) message.snapshot = true;
    const params = this.encoding === 'msgpack' ? encode(message) : JSON.stringify(message);
    const answer =
      action === 'subscribe'
        ? await this.transport.subscribe(params)
        : await this.transport.unsubscribe(params);
    const replies = answer.reply.length > 0 ? decodeMessages(answer.reply, true) : [];
    const reply = replies[0];
    if (reply?.T === 'error') {
      throw new AlpacaRejectedError(Number(reply.code), String(reply.msg));
    }
    if (reply?.T !== 'subscription')
      throw new AlpacaRejectedError(500, 'no subscription ack from the adapter');
    this.acked(reply as SubscriptionMessage);
    return reply as SubscriptionMessage;
  }

  private acked(ack: SubscriptionMessage): void {
    const next: Record<string, readonly string[]> = {};
    for (const [key, value] of Object.entries(ack)) if (Array.isArray(value)) next[key] = value;
    this.current = next;
  }

  private receive(data: string | Uint8Array, binary: boolean): void {
    let messages: Record<string, unknown>[];
    try {
      messages = decodeMessages(data, binary);
    } catch (error) {
      if (this.listenerCount('error') > 0) this.emit('error', error as Error);
      return;
    }
    for (const m of messages) {
      const type = m.T as string;
      if (type === 'subscription') {
        this.acked(m as unknown as SubscriptionMessage);
        continue;
      }
      if (type === 'error') {
        this.emit('alpacaError', m as unknown as ErrorMessage);
        continue;
      }
      const event = Object.hasOwn(EVENT_OF_TYPE, type)
        ? EVENT_OF_TYPE[type as keyof typeof EVENT_OF_TYPE]
        : undefined;
      if (!event) {
        // A type Alpaca added after this version: handed over as it is, never silently dropped.
        if (type !== 'success' && typeof type === 'string') this.emit('unknown', m);
        continue;
      }
      const message = m as unknown as MarketDataMessage;
      (this.emit as (e: string, m: MarketDataMessage) => boolean)(event, message);
      this.emit('message', message);
      for (const q of this.queues) q.push(message);
    }
  }

  /** `for await (const m of stream)`: every data message from now on, until close(). */
  [Symbol.asyncIterator](): AsyncIterator<MarketDataMessage> {
    const queue = new MessageQueue<MarketDataMessage>(this.iteratorBuffer);
    if (this.closed) queue.end();
    else this.queues.add(queue);
    return {
      next: () => queue.next(),
      return: () => {
        queue.end();
        this.queues.delete(queue);
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Messages dropped by slow async iterators so far. */
  get droppedByIterators(): number {
    let n = 0;
    for (const q of this.queues) n += q.dropped;
    return n;
  }

  private finish(): void {
    this.closed = true;
    for (const q of this.queues) q.end();
    this.queues.clear();
  }

  /** Leaves the shared session; the daemon releases this process's subscriptions. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.finish();
    await this.transport.close();
    await this.onClose?.();
  }
}

export interface AlpacaAccountStreamEvents {
  tradeUpdate: [message: TradeUpdate];
  message: [message: AccountMessage];
  close: [info: unknown];
  error: [error: Error];
}

/** The account stream (trade_updates), shared through wsproxy. */
export class AlpacaAccountStream extends EventEmitter<AlpacaAccountStreamEvents> {
  private readonly transport: AlpacaTransport;
  private readonly onClose: (() => Promise<void>) | undefined;
  private streams: readonly string[] = [];

  static async connect(
    options: Omit<AlpacaStreamOptions, 'feed' | 'encoding' | 'baseUrl'> & { paper?: boolean } = {},
  ): Promise<AlpacaAccountStream> {
    const url =
      options.url ??
      (options.paper === false ? 'wss://api.alpaca.markets/stream' : 'wss://paper-api.alpaca.markets/stream');
    const credentials = resolveCredentials(options.credentials);
    const { socket, onClose } = await openAlpacaSocket(url, credentials, options);
    return new AlpacaAccountStream(socket, onClose);
  }

  constructor(transport: AlpacaTransport, onClose?: () => Promise<void>) {
    super();
    this.transport = transport;
    this.onClose = onClose;
    transport.on('message', (m) => {
      let messages: Record<string, unknown>[];
      try {
        messages = decodeMessages(m.data, false);
      } catch (error) {
        if (this.listenerCount('error') > 0) this.emit('error', error as Error);
        return;
      }
      for (const message of messages as unknown as AccountMessage[]) {
        this.emit('message', message);
        if (message.stream === 'trade_updates') this.emit('tradeUpdate', message);
      }
    });
    transport.on('close', (info: never) => this.emit('close', info));
  }

  /** The streams this process listens to: its acknowledged listen set as the daemon holds (and restores) it. */
  get listening(): readonly string[] {
    const state = this.transport.subscriptionState;
    if (!state || state.length === 0) return this.streams;
    const { streams } = decodeForClient(state, true) as { streams?: unknown };
    return Array.isArray(streams) ? (streams as string[]) : this.streams;
  }

  /** Replaces this process's listen set (Alpaca semantics); `[]` stops all. */
  async listen(streams: readonly string[]): Promise<readonly string[]> {
    const answer = await this.transport.subscribe(JSON.stringify({ action: 'listen', data: { streams } }));
    const reply = decodeMessages(answer.reply, false)[0] as unknown as AccountMessage | undefined;
    if (reply?.stream !== 'listening') throw new AlpacaRejectedError(402, 'listen was not accepted');
    this.streams = reply.data.streams;
    return this.streams;
  }

  async close(): Promise<void> {
    await this.transport.close();
    await this.onClose?.();
  }
}
