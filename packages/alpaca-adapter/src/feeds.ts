// What each Alpaca market-data feed accepts and how it answers. Everything feed-specific lives here so the book,
// the router and the session stay generic.

/** The four market-data stream families. The account stream (trade_updates) is a different protocol. */
export type FeedKind = 'stocks' | 'crypto' | 'options' | 'news';

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
    channels: ['trades', 'quotes', 'bars', 'dailyBars', 'updatedBars', 'orderbooks'],
    ackKeys: ['trades', 'quotes', 'orderbooks', 'bars', 'updatedBars', 'dailyBars'],
    derived: {},
    channelOfType: { t: 'trades', q: 'quotes', ...BAR_TYPES, o: 'orderbooks' },
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

/** Where a URL points, for the daemon to pick the right session class. */
export type AlpacaStreamTarget =
  | { readonly kind: FeedKind; readonly encoding: Encoding; readonly feed: string }
  | { readonly kind: 'account'; readonly encoding: 'json'; readonly feed: 'trade_updates' };

/**
 * Recognises Alpaca stream URLs (and the mock's, which uses the same paths) by their path:
 * `/v2/{feed}`, `/v1beta1/{boats|overnight}`, `/v1beta3/crypto/{loc}`, `/v1beta1/{indicative|opra}`,
 * `/v1beta1/news`, `/stream`. Returns undefined for anything else (the daemon then stays a passthrough).
 */
export function classifyAlpacaUrl(url: string | URL): AlpacaStreamTarget | undefined {
  let path: string;
  try {
    path = (typeof url === 'string' ? new URL(url) : url).pathname.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
  if (path === '/stream') return { kind: 'account', encoding: 'json', feed: 'trade_updates' };
  let m = /^\/v1beta\d+\/crypto\/([\w-]+)$/.exec(path);
  if (m) return { kind: 'crypto', encoding: 'msgpack', feed: m[1]! };
  m = /^\/v1beta\d+\/(indicative|opra)$/.exec(path);
  if (m) return { kind: 'options', encoding: 'msgpack', feed: m[1]! };
  if (/^\/v1beta\d+\/news$/.test(path)) return { kind: 'news', encoding: 'msgpack', feed: 'news' };
  m = /^\/v2\/(iex|sip|delayed_sip|test)$/.exec(path) ?? /^\/v1beta\d+\/(boats|overnight)$/.exec(path);
  if (m) return { kind: 'stocks', encoding: 'msgpack', feed: m[1]! };
  return undefined;
}
