// What each Alpaca market-data feed accepts and how it answers. Everything feed-specific lives here so the book,
// the router and the session stay generic.

/** The market-data stream families. The account stream (trade_updates) is a different protocol. */
export type FeedKind = 'stocks' | 'crypto' | 'crypto-perps' | 'options' | 'news';

/** Wire encoding of an Alpaca stream: chosen by the upgrade's Content-Type. */
export type Encoding = 'json' | 'msgpack';

export interface FeedProfile {
  readonly kind: FeedKind;
  /** Channels a client may subscribe to (the keys of a subscribe message). */
  readonly channels: readonly string[];
  /** Keys of the subscription ack, in Alpaca's order (includes derived channels like `corrections`). */
  readonly ackKeys: readonly string[];
  /** Derived ack keys that mirror another channel's list (stocks: corrections/cancelErrors follow trades). */
  readonly derived: Readonly<Record<string, string>>;
  /** Data message type `T` -> the channel whose subscribers receive it. */
  readonly channelOfType: Readonly<Record<string, string>>;
  /** Channels on which `*` is refused (413). */
  readonly noStar: readonly string[];
  /** Only msgpack is accepted (options: JSON gets 412). */
  readonly msgpackOnly: boolean;
}

const BAR_TYPES = { b: 'bars', d: 'dailyBars', u: 'updatedBars' } as const;

const CRYPTO_CHANNELS = ['trades', 'quotes', 'bars', 'dailyBars', 'updatedBars', 'orderbooks'] as const;
const CRYPTO_TYPES = { t: 'trades', q: 'quotes', ...BAR_TYPES, o: 'orderbooks' } as const;

export const FEED_PROFILES: Readonly<Record<FeedKind, FeedProfile>> = {
  stocks: {
    kind: 'stocks',
    channels: ['trades', 'quotes', 'bars', 'dailyBars', 'updatedBars', 'statuses', 'lulds', 'imbalances'],
    ackKeys: [
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
    ],
    derived: { corrections: 'trades', cancelErrors: 'trades' },
    channelOfType: {
      t: 'trades',
      q: 'quotes',
      ...BAR_TYPES,
      s: 'statuses',
      l: 'lulds',
      i: 'imbalances',
      // Corrections and cancel/errors ride on the trades subscription.
      c: 'trades',
      x: 'trades',
    },
    noStar: [],
    msgpackOnly: false,
  },
  crypto: {
    kind: 'crypto',
    channels: CRYPTO_CHANNELS,
    ackKeys: ['trades', 'quotes', 'orderbooks', 'bars', 'updatedBars', 'dailyBars'],
    derived: {},
    channelOfType: CRYPTO_TYPES,
    noStar: [],
    msgpackOnly: false,
  },
  // Perpetual futures (the Go SDK's CryptoClient on `global`): crypto's channels plus `pricing` (index and mark
  // price, funding rate, open interest), whose items are `T:"p"`.
  'crypto-perps': {
    kind: 'crypto-perps',
    channels: [...CRYPTO_CHANNELS, 'pricing'],
    ackKeys: ['trades', 'quotes', 'orderbooks', 'bars', 'updatedBars', 'dailyBars', 'pricing'],
    derived: {},
    channelOfType: { ...CRYPTO_TYPES, p: 'pricing' },
    noStar: [],
    msgpackOnly: false,
  },
  options: {
    kind: 'options',
    channels: ['trades', 'quotes'],
    ackKeys: ['trades', 'quotes'],
    derived: {},
    channelOfType: { t: 'trades', q: 'quotes' },
    noStar: ['quotes'],
    msgpackOnly: true,
  },
  news: {
    kind: 'news',
    channels: ['news'],
    ackKeys: ['news'],
    derived: {},
    channelOfType: { n: 'news' },
    noStar: [],
    msgpackOnly: false,
  },
};

/** True for the feeds whose items are crypto (order books, fractional sizes). */
export function isCryptoKind(kind: FeedKind): boolean {
  return kind === 'crypto' || kind === 'crypto-perps';
}

/**
 * Every market-data stream the official SDKs (JS v4, Go v3, alpaca-py) know, by the feed name a user gives: its
 * path on Alpaca's host and its kind. The one table behind AlpacaStream's `feed` option, the endpoint's Go-SDK
 * `/{feed}` paths and classifyAlpacaUrl. Crypto locations are open-ended (`crypto/{loc}`, see CRYPTO_PATH).
 */
export const ALPACA_FEEDS: Readonly<Record<string, { readonly path: string; readonly kind: FeedKind }>> = {
  iex: { path: '/v2/iex', kind: 'stocks' },
  sip: { path: '/v2/sip', kind: 'stocks' },
  delayed_sip: { path: '/v2/delayed_sip', kind: 'stocks' },
  otc: { path: '/v2/otc', kind: 'stocks' },
  test: { path: '/v2/test', kind: 'stocks' },
  boats: { path: '/v1beta1/boats', kind: 'stocks' },
  overnight: { path: '/v1beta1/overnight', kind: 'stocks' },
  crypto: { path: '/v1beta3/crypto/us', kind: 'crypto' },
  'crypto-perps': { path: '/v1beta1/crypto-perps/global', kind: 'crypto-perps' },
  indicative: { path: '/v1beta1/indicative', kind: 'options' },
  opra: { path: '/v1beta1/opra', kind: 'options' },
  news: { path: '/v1beta1/news', kind: 'news' },
  // The Go SDK's crypto feed names (marketdata.US, US1, US2, BS1, GLOBAL): its CryptoClient dials
  // `DATA_CRYPTO_PROXY_WS + "/" + feed`, so a proxy base without a path reaches the endpoint as `/us` or `/global`.
  // GLOBAL exists only on the perps feed.
  us: { path: '/v1beta3/crypto/us', kind: 'crypto' },
  'us-1': { path: '/v1beta3/crypto/us-1', kind: 'crypto' },
  'us-2': { path: '/v1beta3/crypto/us-2', kind: 'crypto' },
  'bs-1': { path: '/v1beta3/crypto/bs-1', kind: 'crypto' },
  global: { path: '/v1beta1/crypto-perps/global', kind: 'crypto-perps' },
};

/** `crypto/{loc}` and `crypto-perps/{loc}` feed names (us, us-1, us-2, bs-1, eu-1; global for perps). */
const CRYPTO_FEED = /^(crypto|crypto-perps)\/([\w-]+)$/;

/** The path and kind of a feed name (`iex`, `crypto`, `crypto/us-1`, `crypto-perps`, ...); undefined if unknown. */
export function feedByName(feed: string): { readonly path: string; readonly kind: FeedKind } | undefined {
  if (Object.hasOwn(ALPACA_FEEDS, feed)) return ALPACA_FEEDS[feed];
  const m = CRYPTO_FEED.exec(feed);
  if (!m) return undefined;
  return m[1] === 'crypto'
    ? { path: `/v1beta3/crypto/${m[2]}`, kind: 'crypto' }
    : { path: `/v1beta1/crypto-perps/${m[2]}`, kind: 'crypto-perps' };
}

/** Where a URL points, for the daemon to pick the right session class. */
export type AlpacaStreamTarget =
  | { readonly kind: FeedKind; readonly encoding: Encoding; readonly feed: string }
  | { readonly kind: 'account'; readonly encoding: 'json'; readonly feed: 'trade_updates' };

/**
 * Recognises Alpaca stream URLs (and the mock's, which uses the same paths) by their path:
 * the paths of ALPACA_FEEDS, `/v1beta{N}/crypto/{loc}`, `/v1beta{N}/crypto-perps/{loc}` and `/stream`. Returns undefined for anything else (the daemon then stays a passthrough).
 */
export function classifyAlpacaUrl(url: string | URL): AlpacaStreamTarget | undefined {
  let path: string;
  try {
    path = (typeof url === 'string' ? new URL(url) : url).pathname.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
  if (path === '/stream') return { kind: 'account', encoding: 'json', feed: 'trade_updates' };
  const m = /^\/v1beta\d+\/(crypto|crypto-perps)\/([\w-]+)$/.exec(path);
  if (m) return { kind: m[1] === 'crypto' ? 'crypto' : 'crypto-perps', encoding: 'msgpack', feed: m[2]! };
  // Any beta version of a v1beta feed (Alpaca bumps them): `/v1beta2/news` is still news.
  const named = /^\/(v2|v1beta\d+)\/([\w-]+)$/.exec(path);
  if (!named) return undefined;
  const feed = named[2]!;
  const known = Object.hasOwn(ALPACA_FEEDS, feed) ? ALPACA_FEEDS[feed] : undefined;
  if (!known || known.path.split('/')[2] !== feed) return undefined;
  const sameFamily = named[1] === 'v2' ? known.path.startsWith('/v2/') : known.path.startsWith('/v1beta');
  return sameFamily ? { kind: known.kind, encoding: 'msgpack', feed } : undefined;
}
