/**
 * The endpoint catalogue: which paths exist, what asset class each serves, which channels it accepts and how its
 * symbols look. Everything protocol-level that differs between endpoints lives here, so sessions stay generic.
 */

export type AssetClass = 'stocks' | 'crypto' | 'options' | 'news';

/** Which synthetic market feeds an endpoint; stock feeds share one market, the test feed has its own. */
export type MarketId = 'stocks' | 'stocks-test' | 'crypto' | 'options' | 'news';

export interface MarketDataEndpoint {
  readonly kind: 'market-data';
  /** Path without the leading slash, e.g. `v2/iex`. */
  readonly path: string;
  readonly assetClass: AssetClass;
  readonly market: MarketId;
  /** Channels a client may subscribe to, in the order the ack lists them (derived ones included). */
  readonly ackChannels: readonly string[];
  /** Channels a client may name in (un)subscribe. */
  readonly subscribable: ReadonlySet<string>;
  /** Options data is only served in msgpack (error 412 otherwise). */
  readonly msgpackOnly: boolean;
  readonly symbolPattern: RegExp;
}

export interface AccountEndpoint {
  readonly kind: 'account';
  readonly path: string;
}

export type Endpoint = MarketDataEndpoint | AccountEndpoint;

/** Every channel name any endpoint knows: naming one that this endpoint lacks is error 410, not a syntax error. */
export const KNOWN_CHANNELS: ReadonlySet<string> = new Set([
  'trades',
  'quotes',
  'bars',
  'dailyBars',
  'updatedBars',
  'statuses',
  'lulds',
  'imbalances',
  'corrections',
  'cancelErrors',
  'orderbooks',
  'news',
  'pricing',
]);

/** `corrections` and `cancelErrors` follow `trades` on stock feeds: they appear in the ack, never asked for. */
export const DERIVED_FROM_TRADES = ['corrections', 'cancelErrors'] as const;

const STOCK_ACK = [
  'trades',
  'quotes',
  'bars',
  'updatedBars',
  'dailyBars',
  'statuses',
  'lulds',
  'corrections',
  'cancelErrors',
  'imbalances',
];
const STOCK_SUBSCRIBABLE = new Set(STOCK_ACK.filter((c) => c !== 'corrections' && c !== 'cancelErrors'));
const CRYPTO_ACK = ['trades', 'quotes', 'orderbooks', 'bars', 'updatedBars', 'dailyBars'];
/** Perpetual futures (`v1beta1/crypto-perps/global`): crypto's channels plus `pricing`. */
const PERPS_ACK = [...CRYPTO_ACK, 'pricing'];
const OPTION_ACK = ['trades', 'quotes'];
const NEWS_ACK = ['news'];

export const STOCK_SYMBOL = /^[A-Z0-9][A-Z0-9.\-/]{0,20}$/;
export const CRYPTO_SYMBOL = /^[A-Z0-9]{1,15}\/[A-Z0-9]{1,15}$/;
/** Crypto pairs, or perpetual futures like `BTC-PERP`. */
const PERPS_SYMBOL = /^([A-Z0-9]{1,15}\/[A-Z0-9]{1,15}|[A-Z0-9]{1,15}-PERP)$/;
/** OCC option symbol: root, yymmdd, C/P, strike * 1000 in 8 digits. */
export const OPTION_SYMBOL = /^[A-Z]{1,6}\d{6}[CP]\d{8}$/;
const NEWS_SYMBOL = /^[A-Z0-9][A-Z0-9.\-/]{0,20}$/;

function marketData(
  path: string,
  assetClass: AssetClass,
  market: MarketId,
  ack: string[],
  subscribable: Set<string>,
  symbolPattern: RegExp,
): MarketDataEndpoint {
  return {
    kind: 'market-data',
    path,
    assetClass,
    market,
    ackChannels: ack,
    subscribable,
    msgpackOnly: assetClass === 'options',
    symbolPattern,
  };
}

const ENDPOINTS: ReadonlyMap<string, Endpoint> = new Map<string, Endpoint>(
  [
    marketData('v2/iex', 'stocks', 'stocks', STOCK_ACK, STOCK_SUBSCRIBABLE, STOCK_SYMBOL),
    marketData('v2/sip', 'stocks', 'stocks', STOCK_ACK, STOCK_SUBSCRIBABLE, STOCK_SYMBOL),
    marketData('v2/delayed_sip', 'stocks', 'stocks', STOCK_ACK, STOCK_SUBSCRIBABLE, STOCK_SYMBOL),
    marketData('v2/otc', 'stocks', 'stocks', STOCK_ACK, STOCK_SUBSCRIBABLE, STOCK_SYMBOL),
    marketData('v1beta1/boats', 'stocks', 'stocks', STOCK_ACK, STOCK_SUBSCRIBABLE, STOCK_SYMBOL),
    marketData('v1beta1/overnight', 'stocks', 'stocks', STOCK_ACK, STOCK_SUBSCRIBABLE, STOCK_SYMBOL),
    marketData('v2/test', 'stocks', 'stocks-test', STOCK_ACK, STOCK_SUBSCRIBABLE, STOCK_SYMBOL),
    marketData('v1beta3/crypto/us', 'crypto', 'crypto', CRYPTO_ACK, new Set(CRYPTO_ACK), CRYPTO_SYMBOL),
    marketData('v1beta3/crypto/us-1', 'crypto', 'crypto', CRYPTO_ACK, new Set(CRYPTO_ACK), CRYPTO_SYMBOL),
    marketData('v1beta3/crypto/us-2', 'crypto', 'crypto', CRYPTO_ACK, new Set(CRYPTO_ACK), CRYPTO_SYMBOL),
    marketData('v1beta3/crypto/bs-1', 'crypto', 'crypto', CRYPTO_ACK, new Set(CRYPTO_ACK), CRYPTO_SYMBOL),
    marketData('v1beta3/crypto/eu-1', 'crypto', 'crypto', CRYPTO_ACK, new Set(CRYPTO_ACK), CRYPTO_SYMBOL),
    // The perps feed: served on the crypto market (trades, quotes, bars, books), plus its `pricing` items.
    marketData(
      'v1beta1/crypto-perps/global',
      'crypto',
      'crypto',
      PERPS_ACK,
      new Set(PERPS_ACK),
      PERPS_SYMBOL,
    ),
    marketData('v1beta1/indicative', 'options', 'options', OPTION_ACK, new Set(OPTION_ACK), OPTION_SYMBOL),
    marketData('v1beta1/opra', 'options', 'options', OPTION_ACK, new Set(OPTION_ACK), OPTION_SYMBOL),
    marketData('v1beta1/news', 'news', 'news', NEWS_ACK, new Set(NEWS_ACK), NEWS_SYMBOL),
    { kind: 'account', path: 'stream' } satisfies AccountEndpoint,
  ].map((e) => [e.path, e]),
);

/** All endpoint paths the mock serves (without leading slash). */
export const ENDPOINT_PATHS: readonly string[] = [...ENDPOINTS.keys()];

/** Finds the endpoint for a request path like `/v2/iex` or `/v2/iex?x=1`; undefined when unknown. */
export function endpointForPath(requestPath: string): Endpoint | undefined {
  const path = requestPath.split('?')[0]?.replace(/^\/+|\/+$/g, '') ?? '';
  return ENDPOINTS.get(path);
}
