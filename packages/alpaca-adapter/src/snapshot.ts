// Initial state for `subscribe(..., { snapshot: true })` when the daemon has nothing cached: Alpaca's REST snapshot
// endpoints, fetched with undici. Symbols asked for in the same tick are fetched in ONE request, and a symbol
// already being fetched is not fetched again: clients asking at the same time share the answer.

import { type Dispatcher, request } from 'undici';
import type { AlpacaCredentials } from './auth.js';
import { SnapshotFetchError } from './errors.js';
import type { FeedKind } from './feeds.js';
import { parseJsonLossless } from './lossless-json.js';

/** Stream-shaped items (`T` first, then `S`) built from one symbol's REST snapshot. */
export interface SymbolSnapshot {
  readonly trade?: Record<string, unknown>;
  readonly quote?: Record<string, unknown>;
  readonly bar?: Record<string, unknown>;
}

/** Where initial state comes from. The session only needs this; tests and the daemon may supply their own. */
export interface SnapshotSource {
  fetch(symbols: readonly string[]): Promise<ReadonlyMap<string, SymbolSnapshot>>;
}

export interface RestSnapshotOptions {
  /** REST base, e.g. `https://data.alpaca.markets` or the mock's `http://127.0.0.1:PORT`. */
  readonly baseUrl: string;
  readonly feed: FeedKind;
  /** Stocks feed name passed as `feed=` (iex, sip, ...); crypto location (us, us-1, eu-1). */
  readonly feedName?: string;
  readonly credentials: AlpacaCredentials;
  /** Give up on a request after this long (ms). Default 10 000. */
  readonly timeoutMs?: number;
  /** Most symbols per request (URL length). Default 200. */
  readonly maxSymbolsPerRequest?: number;
  /** undici dispatcher (pool/agent) to use; default undici's global one. */
  readonly dispatcher?: Dispatcher;
}

interface RestSnapshot {
  latestTrade?: Record<string, unknown>;
  latestQuote?: Record<string, unknown>;
  minuteBar?: Record<string, unknown>;
}

export class RestSnapshotSource implements SnapshotSource {
  private readonly options: RestSnapshotOptions;
  private readonly inFlight = new Map<string, Promise<SymbolSnapshot | undefined>>();
  private pending: { symbols: Set<string>; result: Promise<ReadonlyMap<string, SymbolSnapshot>> } | undefined;
  /** Number of HTTP requests made (for tests and diagnostics). */
  requests = 0;

  constructor(options: RestSnapshotOptions) {
    if (options.feed === 'news') throw new SnapshotFetchError('news has no snapshot endpoint');
    this.options = options;
  }

  fetch(symbols: readonly string[]): Promise<ReadonlyMap<string, SymbolSnapshot>> {
    const waits: [string, Promise<SymbolSnapshot | undefined>][] = [];
    for (const symbol of new Set(symbols)) {
      let p = this.inFlight.get(symbol);
      if (!p) {
        p = this.enqueue(symbol);
        this.inFlight.set(symbol, p);
        const clear = () => {
          if (this.inFlight.get(symbol) === p) this.inFlight.delete(symbol);
        };
        p.then(clear, clear);
      }
      waits.push([symbol, p]);
    }
    return Promise.all(waits.map(([, p]) => p)).then((results) => {
      const out = new Map<string, SymbolSnapshot>();
      results.forEach((snap, k) => {
        if (snap) out.set(waits[k]![0], snap);
      });
      return out;
    });
  }

  /** Adds a symbol to the batch of this tick; the batch goes out as one request (or a few, if very large). */
  private enqueue(symbol: string): Promise<SymbolSnapshot | undefined> {
    if (!this.pending) {
      const symbols = new Set<string>();
      const result = new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => {
        this.pending = undefined;
        return this.fetchBatch([...symbols]);
      });
      this.pending = { symbols, result };
    }
    this.pending.symbols.add(symbol);
    return this.pending.result.then((map) => map.get(symbol));
  }

  private async fetchBatch(symbols: string[]): Promise<ReadonlyMap<string, SymbolSnapshot>> {
    const max = this.options.maxSymbolsPerRequest ?? 200;
    const out = new Map<string, SymbolSnapshot>();
    for (let k = 0; k < symbols.length; k += max) {
      const chunk = symbols.slice(k, k + max);
      const raw = await this.get(chunk);
      for (const symbol of chunk) {
        const snap = raw[symbol];
        if (snap) out.set(symbol, toStreamItems(symbol, snap));
      }
    }
    return out;
  }

  private path(): string {
    const { feed, feedName } = this.options;
    if (feed === 'crypto') return `/v1beta3/crypto/${feedName ?? 'us'}/snapshots`;
    // The Go SDK's REST client: perpetual futures live under v1beta1/crypto-perps/{loc}, like the stream.
    if (feed === 'crypto-perps') return `/v1beta1/crypto-perps/${feedName ?? 'global'}/snapshots`;
    if (feed === 'options') return '/v1beta1/options/snapshots';
    return '/v2/stocks/snapshots';
  }

  private async get(symbols: string[]): Promise<Record<string, RestSnapshot | undefined>> {
    const { baseUrl, credentials, feed, feedName } = this.options;
    const url = new URL(this.path(), baseUrl);
    url.searchParams.set('symbols', symbols.join(','));
    if (feed === 'stocks' && feedName && feedName !== 'test') url.searchParams.set('feed', feedName);
    if (feed === 'options' && feedName) url.searchParams.set('feed', feedName);
    const timeout = this.options.timeoutMs ?? 10_000;
    this.requests++;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'GET',
        headers: {
          'APCA-API-KEY-ID': credentials.keyId,
          'APCA-API-SECRET-KEY': credentials.secretKey,
          accept: 'application/json',
        },
        headersTimeout: timeout,
        bodyTimeout: timeout,
        ...(this.options.dispatcher ? { dispatcher: this.options.dispatcher } : {}),
      });
    } catch (cause) {
      throw new SnapshotFetchError(
        `snapshot request to ${url.origin}${url.pathname} failed`,
        undefined,
        cause,
      );
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump();
      throw new SnapshotFetchError(`snapshot request answered HTTP ${res.statusCode}`, res.statusCode);
    }
    let body: unknown;
    try {
      // Crypto trade ids exceed 2^53: parsed exactly, as the stream's own items are.
      body = parseJsonLossless(await res.body.text());
    } catch (cause) {
      throw new SnapshotFetchError('snapshot answer is not JSON', res.statusCode, cause);
    }
    if (typeof body !== 'object' || body === null) return {};
    // Stocks answer symbol -> snapshot at the top level; crypto and options wrap it in `snapshots`.
    const wrapped = (body as { snapshots?: unknown }).snapshots;
    return (typeof wrapped === 'object' && wrapped !== null ? wrapped : body) as Record<
      string,
      RestSnapshot | undefined
    >;
  }
}

/** REST objects have the stream's field names minus `T`/`S`: add them back, `T` first as the Go SDK requires. */
function toStreamItems(symbol: string, snap: RestSnapshot): SymbolSnapshot {
  const item = (T: string, body: Record<string, unknown> | undefined) =>
    body && typeof body === 'object' ? { T, S: symbol, ...body } : undefined;
  const out: {
    trade?: Record<string, unknown>;
    quote?: Record<string, unknown>;
    bar?: Record<string, unknown>;
  } = {};
  const trade = item('t', snap.latestTrade);
  const quote = item('q', snap.latestQuote);
  const bar = item('b', snap.minuteBar);
  if (trade) out.trade = trade;
  if (quote) out.quote = quote;
  if (bar) out.bar = bar;
  return out;
}
