/**
 * The mock's options: one `DEFAULT_OPTIONS` object and one normaliser that validates everything up front and
 * throws an InvalidOptionError naming the option, so a typo fails at start-up rather than mid-test.
 */
import { CRYPTO_SYMBOL, ENDPOINT_PATHS, OPTION_SYMBOL, STOCK_SYMBOL } from './endpoints.js';
import { InvalidOptionError } from './errors.js';

export interface KeyPair {
  key: string;
  secret: string;
  /** Endpoint paths this key's plan includes (e.g. `['v2/iex']`); others answer 409 at auth. Default: all. */
  endpoints?: string[];
}

export interface OAuthToken {
  /** Sent as the auth `secret` with key `"oauth"` (or `"access_token"` for broker tokens). */
  token: string;
  /** Scopes the token carries; market data needs `data`, the account stream `trading` (else 411). */
  scopes?: string[];
}

export interface SymbolUniverse {
  /** What `*` means on stock feeds (the test feed always serves FAKEPACA only). */
  stocks?: string[];
  crypto?: string[];
  options?: string[];
}

export interface UpgradeRateLimit {
  /** At most this many upgrades ... */
  max: number;
  /** ... per this many milliseconds; more get HTTP 429. */
  windowMs: number;
}

export interface AlpacaMockOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on; loopback only by default. */
  host?: string;
  /** Accepted key pairs. Default: one pair, key `mock-key`, secret `mock-secret`. */
  keys?: KeyPair[];
  /** Accepted OAuth / broker tokens (auth key `"oauth"` or `"access_token"`). Default: none. */
  tokens?: OAuthToken[];
  /** Authenticated sessions allowed per endpoint and key pair; one more gets 406. Default 1. */
  connectionLimit?: number;
  /** A session that has not authenticated in this time gets 404 and is closed. Default 10 000 ms. */
  authTimeoutMs?: number;
  /** Distinct entries across trades+quotes per session (`*` counts as one); beyond it 405. Default 30. */
  symbolLimit?: number;
  /** Data keeps flowing this long after an unsubscribe, as the real service buffers. Default 100 ms. */
  unsubscribeTailMs?: number;
  /** After an abrupt drop the dead session keeps its slot this long (Alpaca: ~90 s). Default 0 (off). */
  halfDeadMs?: number;
  /** Answer upgrades beyond this rate with HTTP 429. Default: no limit. */
  upgradeRateLimit?: UpgradeRateLimit | null;
  /** PRNG seed of the synthetic market. Default 1. */
  seed?: number;
  /**
   * Messages per second per subscribed symbol and channel, or a preset: `'default'` (10/s) or `'firehose'`
   * (50 000/s in batches of 500, for benchmarks). Default `'default'`.
   */
  rate?: number | 'default' | 'firehose';
  /** Market ticks generated per timer firing (and so per frame). Default 1 (firehose: 500). */
  batchSize?: number;
  /** Synthetic milliseconds per tick. Default 1000 / rate (the synthetic clock keeps real pace). */
  tickMs?: number;
  /** Synthetic clock start. Default 2024-01-02T14:30:00Z (fixed, so runs are reproducible). */
  startTime?: Date | string | number;
  /** Symbol universes: what `*` expands to. */
  symbols?: SymbolUniverse;
  /** A news item every this many ticks while someone listens to news. Default 10. */
  newsEveryTicks?: number;
  /** A trade_updates event every this many ticks while someone listens. Default 5. */
  tradeUpdateEveryTicks?: number;
  /** A session whose unsent backlog exceeds this many bytes gets 407 and is closed. Default 16 MiB. */
  slowClientBytes?: number;
  /** Messages recorded per session (in and out) for inspection; older ones are counted, not kept. Default 100 000. */
  recordLimit?: number;
  /** Offer permessage-deflate to clients that ask. Default false (saves CPU in benchmarks). */
  perMessageDeflate?: boolean;
  /** The account stream sends JSON inside binary frames like paper (`'binary'`, default) or text frames. */
  accountFrames?: 'binary' | 'text';
  /**
   * Subscription acks list every channel of the feed (`'full'`, default) or leave out the channels whose list is
   * empty (`'omit-empty'`), as real acks may: a client must read a missing key as an empty list.
   */
  acks?: 'full' | 'omit-empty';
}

export interface ResolvedOptions {
  port: number;
  host: string;
  keys: KeyPair[];
  tokens: OAuthToken[];
  connectionLimit: number;
  authTimeoutMs: number;
  symbolLimit: number;
  unsubscribeTailMs: number;
  halfDeadMs: number;
  upgradeRateLimit: UpgradeRateLimit | null;
  seed: number;
  rate: number;
  batchSize: number;
  tickMs: number;
  startTime: Date;
  symbols: Required<SymbolUniverse>;
  newsEveryTicks: number;
  tradeUpdateEveryTicks: number;
  slowClientBytes: number;
  recordLimit: number;
  perMessageDeflate: boolean;
  accountFrames: 'binary' | 'text';
  acks: 'full' | 'omit-empty';
}

export const DEFAULT_KEY = 'mock-key';
export const DEFAULT_SECRET = 'mock-secret';

export const RATE_PRESETS = {
  default: { rate: 10, batchSize: 1 },
  firehose: { rate: 50_000, batchSize: 500 },
} as const;

export const DEFAULT_OPTIONS = {
  port: 0,
  host: '127.0.0.1',
  keys: [{ key: DEFAULT_KEY, secret: DEFAULT_SECRET }] as KeyPair[],
  tokens: [] as OAuthToken[],
  connectionLimit: 1,
  authTimeoutMs: 10_000,
  symbolLimit: 30,
  unsubscribeTailMs: 100,
  halfDeadMs: 0,
  upgradeRateLimit: null,
  seed: 1,
  startTime: '2024-01-02T14:30:00Z',
  symbols: {
    stocks: ['AAPL', 'MSFT', 'AMZN', 'GOOGL', 'TSLA', 'NVDA', 'META', 'SPY', 'QQQ', 'AMD'],
    crypto: ['BTC/USD', 'ETH/USD', 'SOL/USD', 'DOGE/USD', 'LTC/USD'],
    options: ['AAPL240315C00172500', 'AAPL240315P00170000', 'SPY240315C00500000', 'TSLA240315P00200000'],
  },
  newsEveryTicks: 10,
  tradeUpdateEveryTicks: 5,
  slowClientBytes: 16 * 1024 * 1024,
  recordLimit: 100_000,
  perMessageDeflate: false,
  accountFrames: 'binary',
  acks: 'full',
} as const;

function integer(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(name, `an integer from ${min} to ${max}`);
  }
  return value;
}

function positiveNumber(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(name, 'a finite number > 0');
  }
  return value;
}

/** Non-negative integer, or Infinity where "no limit" makes sense. */
function limit(name: string, value: unknown, min: number): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  return integer(name, value, min);
}

function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidOptionError(name, 'a non-empty string');
  return value;
}

function symbolList(name: string, value: unknown, pattern: RegExp): string[] {
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || !pattern.test(s))) {
    throw new InvalidOptionError(name, `an array of symbols matching ${pattern}`);
  }
  return [...new Set(value as string[])];
}

function startTime(value: unknown): Date {
  const date =
    value instanceof Date
      ? value
      : typeof value === 'string' || typeof value === 'number'
        ? new Date(value)
        : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw new InvalidOptionError('startTime', 'a Date, an ISO-8601 string or epoch milliseconds');
  }
  return date;
}

function keyPairs(value: unknown): KeyPair[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidOptionError('keys', 'a non-empty array of { key, secret } pairs');
  }
  return value.map((pair: unknown, i) => {
    if (typeof pair !== 'object' || pair === null) {
      throw new InvalidOptionError(`keys[${i}]`, 'an object { key, secret, endpoints? }');
    }
    const { key, secret, endpoints } = pair as Record<string, unknown>;
    const resolved: KeyPair = {
      key: nonEmptyString(`keys[${i}].key`, key),
      secret: nonEmptyString(`keys[${i}].secret`, secret),
    };
    if (resolved.key === 'oauth' || resolved.key === 'access_token') {
      throw new InvalidOptionError(`keys[${i}].key`, 'not "oauth" or "access_token" (use tokens for those)');
    }
    if (endpoints !== undefined) {
      if (!Array.isArray(endpoints) || endpoints.some((e) => !ENDPOINT_PATHS.includes(e as string))) {
        throw new InvalidOptionError(
          `keys[${i}].endpoints`,
          `an array of endpoint paths (${ENDPOINT_PATHS.join(', ')})`,
        );
      }
      resolved.endpoints = [...(endpoints as string[])];
    }
    return resolved;
  });
}

function tokens(value: unknown): OAuthToken[] {
  if (!Array.isArray(value)) throw new InvalidOptionError('tokens', 'an array of { token, scopes? }');
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) {
      throw new InvalidOptionError(`tokens[${i}]`, 'an object { token, scopes? }');
    }
    const { token, scopes } = entry as Record<string, unknown>;
    if (scopes !== undefined && (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string'))) {
      throw new InvalidOptionError(`tokens[${i}].scopes`, 'an array of strings');
    }
    return {
      token: nonEmptyString(`tokens[${i}].token`, token),
      scopes: scopes === undefined ? ['data', 'trading'] : [...(scopes as string[])],
    };
  });
}

function upgradeRateLimit(value: unknown): UpgradeRateLimit | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object')
    throw new InvalidOptionError('upgradeRateLimit', 'null or { max, windowMs }');
  const { max, windowMs } = value as Record<string, unknown>;
  return {
    max: integer('upgradeRateLimit.max', max, 0),
    windowMs: integer('upgradeRateLimit.windowMs', windowMs, 1),
  };
}

const KNOWN = new Set<string>([...Object.keys(DEFAULT_OPTIONS), 'rate', 'batchSize', 'tickMs']);

export function resolveOptions(options: AlpacaMockOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object');
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name))
      throw new InvalidOptionError(name, `one of the known options (${[...KNOWN].join(', ')})`);
  }
  const o = { ...options } as Record<string, unknown>;
  const pick = <K extends keyof typeof DEFAULT_OPTIONS>(name: K): unknown =>
    o[name] === undefined ? DEFAULT_OPTIONS[name] : o[name];

  const rateOption = o.rate ?? 'default';
  let rate: number;
  let presetBatch: number;
  if (rateOption === 'default' || rateOption === 'firehose') {
    rate = RATE_PRESETS[rateOption].rate;
    presetBatch = RATE_PRESETS[rateOption].batchSize;
  } else {
    rate = positiveNumber('rate', rateOption);
    presetBatch = 1;
  }
  const batchSize = o.batchSize === undefined ? presetBatch : integer('batchSize', o.batchSize, 1, 100_000);
  const tickMs = o.tickMs === undefined ? 1000 / rate : positiveNumber('tickMs', o.tickMs);

  const host = nonEmptyString('host', pick('host'));
  const universe = (o.symbols ?? {}) as Record<string, unknown>;
  if (typeof universe !== 'object' || universe === null) {
    throw new InvalidOptionError('symbols', 'an object { stocks?, crypto?, options? }');
  }
  const accountFrames = pick('accountFrames');
  if (accountFrames !== 'binary' && accountFrames !== 'text') {
    throw new InvalidOptionError('accountFrames', "'binary' or 'text'");
  }
  const acks = pick('acks');
  if (acks !== 'full' && acks !== 'omit-empty')
    throw new InvalidOptionError('acks', "'full' or 'omit-empty'");
  const perMessageDeflate = pick('perMessageDeflate');
  if (typeof perMessageDeflate !== 'boolean') throw new InvalidOptionError('perMessageDeflate', 'a boolean');

  return {
    port: integer('port', pick('port'), 0, 65535),
    host,
    keys: keyPairs(pick('keys')),
    tokens: tokens(pick('tokens')),
    connectionLimit: limit('connectionLimit', pick('connectionLimit'), 1),
    authTimeoutMs: integer('authTimeoutMs', pick('authTimeoutMs'), 1),
    symbolLimit: limit('symbolLimit', pick('symbolLimit'), 0),
    unsubscribeTailMs: integer('unsubscribeTailMs', pick('unsubscribeTailMs'), 0),
    halfDeadMs: integer('halfDeadMs', pick('halfDeadMs'), 0),
    upgradeRateLimit: upgradeRateLimit(o.upgradeRateLimit),
    seed: integer('seed', pick('seed'), 0, 0xffffffff),
    rate,
    batchSize,
    tickMs,
    startTime: startTime(pick('startTime')),
    symbols: {
      stocks: symbolList('symbols.stocks', universe.stocks ?? DEFAULT_OPTIONS.symbols.stocks, STOCK_SYMBOL),
      crypto: symbolList('symbols.crypto', universe.crypto ?? DEFAULT_OPTIONS.symbols.crypto, CRYPTO_SYMBOL),
      options: symbolList(
        'symbols.options',
        universe.options ?? DEFAULT_OPTIONS.symbols.options,
        OPTION_SYMBOL,
      ),
    },
    newsEveryTicks: integer('newsEveryTicks', pick('newsEveryTicks'), 1),
    tradeUpdateEveryTicks: integer('tradeUpdateEveryTicks', pick('tradeUpdateEveryTicks'), 1),
    slowClientBytes: integer('slowClientBytes', pick('slowClientBytes'), 1),
    recordLimit: integer('recordLimit', pick('recordLimit'), 0),
    perMessageDeflate,
    accountFrames,
    acks,
  };
}
