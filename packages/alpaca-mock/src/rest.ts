/**
 * The few REST market-data endpoints a strategy reads its initial state from, served from the same synthetic
 * market as the streams (reading never advances the market, so REST cannot disturb determinism). Keys come in
 * Alpaca's headers; errors have Alpaca's `{ code, message }` shape.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { alpacaJson } from './codec.js';
import { CRYPTO_SYMBOL, STOCK_SYMBOL } from './endpoints.js';
import type { Bar } from './market/bar.js';
import type { CryptoTape } from './market/crypto.js';
import type { SyntheticMarket } from './market/index.js';
import type { StockTape } from './market/stocks.js';
import type { NanoTime } from './time.js';

export interface RestAuth {
  /** True when the headers name a configured key pair or token. */
  check(headers: IncomingMessage['headers']): 'ok' | 'missing' | 'invalid';
}

class RestError extends Error {
  constructor(
    readonly status: number,
    readonly alpacaCode: number,
    message: string,
  ) {
    super(message);
  }
}

const NOT_AUTHORIZED = () => new RestError(401, 40110000, 'request is not authorized');

export function handleRest(
  req: IncomingMessage,
  res: ServerResponse,
  market: SyntheticMarket,
  auth: RestAuth,
): void {
  try {
    const body = route(req, market, auth);
    send(res, 200, body);
  } catch (error) {
    if (error instanceof RestError)
      send(res, error.status, { code: error.alpacaCode, message: error.message });
    else send(res, 500, { code: 50010000, message: 'internal server error' });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  // Alpaca's JSON: exact 64-bit ids (crypto trade ids exceed 2^53), `<>&` escaped.
  const text = alpacaJson(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** A path segment; malformed percent-encoding is the client's mistake (400), not an internal error (500). */
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RestError(400, 40010001, 'invalid path encoding');
  }
}

function route(req: IncomingMessage, market: SyntheticMarket, auth: RestAuth): unknown {
  const url = new URL(req.url ?? '/', 'http://mock.invalid');
  const parts = url.pathname.split('/').filter(Boolean).map(decodePathPart);
  if (req.method !== 'GET') throw new RestError(405, 40510000, 'method not allowed');

  if (parts[0] === 'v2' && parts[1] === 'stocks') {
    // Stock data always needs keys.
    if (auth.check(req.headers) !== 'ok') throw NOT_AUTHORIZED();
    return stocksRoute(parts.slice(2), url.searchParams, market);
  }
  if (parts[0] === 'v1beta3' && parts[1] === 'crypto' && parts[2] !== undefined) {
    // Crypto data is public; keys are optional but must be right when given.
    if (auth.check(req.headers) === 'invalid') throw NOT_AUTHORIZED();
    return cryptoRoute(parts.slice(3), url.searchParams, market);
  }
  throw new RestError(404, 40410000, 'endpoint not found');
}

function symbolsParam(params: URLSearchParams, pattern: RegExp): string[] {
  const raw = params.get('symbols');
  if (!raw) throw new RestError(400, 40010001, 'symbols is required');
  const symbols = [
    ...new Set(
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (symbols.length === 0) throw new RestError(400, 40010001, 'symbols is required');
  for (const s of symbols) if (!pattern.test(s)) throw new RestError(400, 40010001, `invalid symbol: ${s}`);
  return symbols;
}

function single(symbol: string | undefined, pattern: RegExp): string {
  if (!symbol || !pattern.test(symbol)) throw new RestError(400, 40010001, `invalid symbol: ${symbol ?? ''}`);
  return symbol;
}

// ---- stocks ----

function stockTrade(tape: StockTape): Record<string, unknown> {
  const { t, x, p, s, c, i, z } = tape.lastTrade;
  return { t, x, p, s, c, i, z };
}
function stockQuote(tape: StockTape): Record<string, unknown> {
  const { t, ax, ap, as, bx, bp, bs, c, z } = tape.lastQuote;
  return { t, ax, ap, as, bx, bp, bs, c, z };
}
function bar(b: Bar | null, fallbackPrice: number, fallbackTime: NanoTime): Record<string, unknown> {
  if (!b)
    return {
      t: fallbackTime,
      o: fallbackPrice,
      h: fallbackPrice,
      l: fallbackPrice,
      c: fallbackPrice,
      v: 0,
      n: 0,
      vw: fallbackPrice,
    };
  const { t, o, h, l, c, v, n, vw } = b;
  return { t, o, h, l, c, v, n, vw };
}
/** The current minute's bar; before the minute's first trade, a flat one at the last trade. */
function latestBar(tape: StockTape | CryptoTape): Record<string, unknown> {
  return bar(tape.currentBars().minuteBar, tape.lastTrade.p, tape.lastTrade.t);
}

/** A snapshot: the latest trade and quote (in the asset class's own fields), the minute, daily and previous bars. */
function snapshot<T extends StockTape | CryptoTape>(
  tape: T,
  trade: (tape: T) => Record<string, unknown>,
  quote: (tape: T) => Record<string, unknown>,
): Record<string, unknown> {
  const { minuteBar, dailyBar } = tape.currentBars();
  return {
    latestTrade: trade(tape),
    latestQuote: quote(tape),
    minuteBar: bar(minuteBar, tape.lastTrade.p, tape.lastTrade.t),
    dailyBar: bar(dailyBar, tape.prevDailyBar.c, tape.lastTrade.t),
    prevDailyBar: bar(tape.prevDailyBar, tape.prevDailyBar.c, tape.prevDailyBar.t),
  };
}

function stockSnapshot(tape: StockTape): Record<string, unknown> {
  return snapshot(tape, stockTrade, stockQuote);
}

function stocksRoute(parts: string[], params: URLSearchParams, market: SyntheticMarket): unknown {
  const m = params.get('feed') === 'test' ? market.testStocks : market.stocks;
  const [a, b, c] = parts;
  if (a === 'snapshots' && b === undefined) {
    const out: Record<string, unknown> = {};
    for (const s of symbolsParam(params, STOCK_SYMBOL)) out[s] = stockSnapshot(m.tape(s));
    return out;
  }
  if ((a === 'trades' || a === 'quotes' || a === 'bars') && b === 'latest' && c === undefined) {
    const out: Record<string, unknown> = {};
    for (const s of symbolsParam(params, STOCK_SYMBOL)) out[s] = latestStock(a, m.tape(s));
    return { [a]: out };
  }
  if (a !== undefined && b === 'snapshot' && c === undefined) {
    const s = single(a, STOCK_SYMBOL);
    return { symbol: s, ...stockSnapshot(m.tape(s)) };
  }
  if (a !== undefined && (b === 'trades' || b === 'quotes' || b === 'bars') && c === 'latest') {
    const s = single(a, STOCK_SYMBOL);
    return { symbol: s, [b.slice(0, -1)]: latestStock(b, m.tape(s)) };
  }
  throw new RestError(404, 40410000, 'endpoint not found');
}

function latestStock(kind: 'trades' | 'quotes' | 'bars', tape: StockTape): unknown {
  if (kind === 'trades') return stockTrade(tape);
  if (kind === 'quotes') return stockQuote(tape);
  return latestBar(tape);
}

// ---- crypto ----

function cryptoTrade(tape: CryptoTape): Record<string, unknown> {
  const { t, p, s, i, tks } = tape.lastTrade;
  return { t, p, s, i, tks };
}
function cryptoQuote(tape: CryptoTape): Record<string, unknown> {
  const { t, bp, bs, ap, as } = tape.lastQuote;
  return { t, bp, bs, ap, as };
}

function cryptoRoute(parts: string[], params: URLSearchParams, market: SyntheticMarket): unknown {
  const [a, b] = parts;
  const symbols = () => symbolsParam(params, CRYPTO_SYMBOL);
  const collect = (f: (tape: CryptoTape) => unknown) => {
    const out: Record<string, unknown> = {};
    for (const s of symbols()) out[s] = f(market.crypto.tape(s));
    return out;
  };
  if (a === 'snapshots' && b === undefined) {
    return {
      snapshots: collect((tape) => snapshot(tape, cryptoTrade, cryptoQuote)),
    };
  }
  if (a === 'latest' && b === 'orderbooks') {
    return { orderbooks: collect((tape) => ({ t: tape.book.t, ...tape.book.levels() })) };
  }
  if (a === 'latest' && b === 'trades') return { trades: collect(cryptoTrade) };
  if (a === 'latest' && b === 'quotes') return { quotes: collect(cryptoQuote) };
  if (a === 'latest' && b === 'bars') {
    return { bars: collect(latestBar) };
  }
  throw new RestError(404, 40410000, 'endpoint not found');
}
