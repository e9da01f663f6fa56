// Fidelity to Alpaca's real messages (issue 16), on the corpus of public real messages in fixtures/corpus: numbers
// exact on every path (64-bit ids, prices, nanosecond timestamps), transcoding that writes what Alpaca writes,
// unknown item types forwarded, every feed the official SDKs know. The same corpus is replayed through a real daemon
// in corpus-replay.test.ts.
import { decode, decodeTimestampToTimeSpec, ExtData, ExtensionCodec } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AlpacaRouter,
  AlpacaStream,
  type AlpacaTransport,
  alpacaPathFor,
  type ClientId,
  classifyAlpacaUrl,
  type FeedKind,
  feedPath,
  type MarketDataMessage,
  transcodeFrame,
} from '../src/index.js';
import { parseJsonLossless } from '../src/lossless-json.js';
import { CORPUS } from './corpus.js';

const BIG_ID = 3447222699101865076n;
const TIMESTAMP_FIELDS = ['t', 'r', 'created_at', 'updated_at', 'ft'];

const rawExt = new ExtensionCodec();
rawExt.register({ type: -1, encode: () => null, decode: (data) => new ExtData(-1, data) });

/** Alpaca's JSON text of some items, numbers exact. */
function jsonFrame(items: readonly unknown[]): Buffer {
  return Buffer.from(
    JSON.stringify(items, (_k, v) => (typeof v === 'bigint' ? `@@${v}@@` : v)).replace(
      /"@@(-?\d+)@@"/g,
      '$1',
    ),
  );
}

describe('64-bit ids (found 1)', () => {
  it('msgpack -> JSON writes the exact id; JSON -> msgpack writes it as an int64, not a float64', () => {
    const trade = CORPUS.crypto!.samples[0]!.item;
    expect(trade.i).toBe(BIG_ID);
    const msgpack = transcodeFrame(jsonFrame([trade]), 'json', 'msgpack', 'crypto');
    // The Go SDK decodes `i` with DecodeInt64: a float64 (0xcb) there fails and drops the rest of the frame.
    const at = Buffer.from(msgpack).indexOf(Buffer.from([0xa1, 0x69])) + 2;
    expect(msgpack[at]).toBe(0xd3);
    expect(Buffer.from(msgpack).readBigInt64BE(at + 1)).toBe(BIG_ID);
    const json = Buffer.from(transcodeFrame(msgpack, 'msgpack', 'json', 'crypto')).toString();
    expect(json).toContain('"i":3447222699101865076');
    expect(parseJsonLossless(json)).toEqual([trade]);
  });

  it('AlpacaStream reports the id as an exact bigint in both encodings', async () => {
    const trade = CORPUS.crypto!.samples[0]!.item;
    for (const encoding of ['json', 'msgpack'] as const) {
      const frame =
        encoding === 'json'
          ? jsonFrame([trade])
          : transcodeFrame(jsonFrame([trade]), 'json', 'msgpack', 'crypto');
      const { stream, push } = streamOver('crypto');
      const got: MarketDataMessage[] = [];
      stream.on('trade', (m) => got.push(m));
      push(frame, encoding === 'msgpack');
      expect(got).toHaveLength(1);
      expect(got[0]).toEqual({ ...trade });
      expect((got[0] as { i: bigint }).i).toBe(BIG_ID);
      await stream.close();
    }
  });
});

describe('transcoding writes what Alpaca writes (found 2)', () => {
  it('JSON -> msgpack: T first, every timestamp field as extension -1, fixed-width integers, float64 prices', () => {
    for (const { kind, samples } of Object.values(CORPUS)) {
      for (const { source, item } of samples) {
        const out = transcodeFrame(jsonFrame([item]), 'json', 'msgpack', kind);
        const [decoded] = decode(out, { extensionCodec: rawExt, useBigInt64: true }) as Record<
          string,
          unknown
        >[];
        expect(Object.keys(decoded!)[0], source).toBe('T');
        for (const field of TIMESTAMP_FIELDS) {
          if (typeof item[field] !== 'string') continue;
          const ext = decoded![field] as ExtData;
          expect(ext, `${source}: ${field}`).toBeInstanceOf(ExtData);
          const spec = decodeTimestampToTimeSpec(ext.data as Uint8Array);
          const iso = item[field] as string;
          expect(spec.sec * 1000, `${source}: ${field}`).toBe(Date.parse(`${iso.slice(0, 19)}Z`));
          expect(spec.nsec, `${source}: ${field}`).toBe(
            Number((iso.split('.')[1] ?? '0').replace('Z', '').padEnd(9, '0')),
          );
        }
      }
    }
    // Widths: a whole stock price (100) is still a float64; a stock size a uint32; a bar volume a uint64.
    const goTrade = CORPUS.stocks!.samples[3]!.item;
    const bytes = Buffer.from(transcodeFrame(jsonFrame([goTrade]), 'json', 'msgpack', 'stocks'));
    const field = (key: string) =>
      bytes[bytes.indexOf(Buffer.from([0xa0 | key.length, ...Buffer.from(key)])) + 1 + key.length];
    expect(field('p')).toBe(0xcb);
    expect(field('s')).toBe(0xce);
    expect(field('i')).toBe(0xd3);
    const bar = Buffer.from(
      transcodeFrame(jsonFrame([CORPUS.stocks!.samples[7]!.item]), 'json', 'msgpack', 'stocks'),
    );
    expect(bar[bar.indexOf(Buffer.from([0xa1, 0x76])) + 2]).toBe(0xcf);
    // A crypto size is a float64 even when whole.
    const cryptoBar = Buffer.from(
      transcodeFrame(jsonFrame([CORPUS.crypto!.samples[6]!.item]), 'json', 'msgpack', 'crypto'),
    );
    expect(cryptoBar[cryptoBar.indexOf(Buffer.from([0xa1, 0x76])) + 2]).toBe(0xcb);
  });

  it("msgpack -> JSON escapes <, > and & as Alpaca's Go encoder does, and keeps the nanoseconds", () => {
    const news = {
      ...CORPUS.news!.samples[0]!.item,
      headline: 'Q2 <b>beat</b> & raise',
      content: '<p>x</p>',
    };
    const msgpack = transcodeFrame(jsonFrame([news]), 'json', 'msgpack', 'news');
    const json = Buffer.from(transcodeFrame(msgpack, 'msgpack', 'json', 'news')).toString();
    expect(json).toContain('Q2 \\u003cb\\u003ebeat\\u003c/b\\u003e \\u0026 raise');
    expect(json).not.toMatch(/[<>&]/);
    expect(parseJsonLossless(json)).toEqual([news]);
  });

  it('every corpus item survives JSON -> msgpack -> JSON with every value equal', () => {
    for (const { kind, samples } of Object.values(CORPUS)) {
      const items = samples.map((s) => s.item);
      const msgpack = transcodeFrame(jsonFrame(items), 'json', 'msgpack', kind);
      const back = transcodeFrame(msgpack, 'msgpack', 'json', kind);
      expect(parseJsonLossless(Buffer.from(back).toString())).toEqual(items);
    }
  });
});

describe('unknown item types (found 3)', () => {
  const table = new Map<ClientId, Map<string, Set<string>>>([
    [1, new Map([['trades', new Set(['AAPL'])]])],
    [2, new Map([['quotes', new Set(['MSFT'])]])],
    [3, new Map([['bars', new Set(['*'])]])],
    [4, new Map()],
  ]);

  it('go to the subscribers of their symbol on any channel (and `*`), or to every subscriber without a symbol', () => {
    const router = new AlpacaRouter({ feed: 'stocks', encoding: 'json' });
    router.setRoutingTable(table);
    const other = CORPUS.stocks!.samples.find((s) => s.item.T === 'other')!.item;
    const frame = jsonFrame([
      { T: 'zz', S: 'AAPL', v: 1 },
      { T: 'zz', S: 'MSFT', v: 2 },
      { T: 'zz', S: 'NVDA', v: 3 },
      other,
    ]);
    const result = router.route(frame);
    const got = new Map<ClientId, unknown[]>();
    for (const r of result.records) {
      for (const id of r.recipients)
        got.set(id, [...(got.get(id) ?? []), ...(JSON.parse(Buffer.from(r.bytes).toString()) as unknown[])]);
    }
    expect(got.get(1)).toEqual([{ T: 'zz', S: 'AAPL', v: 1 }, other]);
    expect(got.get(2)).toEqual([{ T: 'zz', S: 'MSFT', v: 2 }, other]);
    expect(got.get(3)).toEqual([
      { T: 'zz', S: 'AAPL', v: 1 },
      { T: 'zz', S: 'MSFT', v: 2 },
      { T: 'zz', S: 'NVDA', v: 3 },
      other,
    ]);
    expect(got.has(4)).toBe(false);
    expect(result.unknownType).toBe(4);
    expect(result.unrouted).toBe(0);
    expect([...result.newUnknownTypes]).toEqual(['zz', 'other']);
    // Reported once per type.
    expect([...router.route(frame).newUnknownTypes]).toEqual([]);
  });

  it('the perps feed routes its pricing items by the pricing channel', () => {
    const router = new AlpacaRouter({ feed: 'crypto-perps', encoding: 'json' });
    router.setRoutingTable(
      new Map([
        [1, new Map([['pricing', new Set(['BTC-PERP'])]])],
        [2, new Map([['trades', new Set(['BTC-PERP'])]])],
      ]),
    );
    const pricing = CORPUS['crypto-perps']!.samples[0]!.item;
    const result = router.route(jsonFrame([pricing]));
    expect(result.records.map((r) => r.recipients)).toEqual([[1]]);
    expect(result.unknownType).toBe(0);
  });
});

describe('every feed the official SDKs know (found 4)', () => {
  it('classifies, serves and names the crypto-perps feed and the others', () => {
    expect(classifyAlpacaUrl('wss://stream.data.alpaca.markets/v1beta1/crypto-perps/global')).toEqual({
      kind: 'crypto-perps',
      encoding: 'msgpack',
      feed: 'global',
    });
    expect(alpacaPathFor('/v1beta1/crypto-perps/global')).toBe('/v1beta1/crypto-perps/global');
    expect(alpacaPathFor('/crypto-perps/global')).toBe('/v1beta1/crypto-perps/global');
    expect(feedPath('crypto-perps')).toEqual({ path: '/v1beta1/crypto-perps/global', kind: 'crypto-perps' });
    // Go SDK and alpaca-py feeds: otc stocks, crypto locations us-1, us-2, bs-1.
    expect(alpacaPathFor('/v2/otc')).toBe('/v2/otc');
    expect(alpacaPathFor('/otc')).toBe('/v2/otc');
    for (const loc of ['us', 'us-1', 'us-2', 'bs-1', 'eu-1'])
      expect(classifyAlpacaUrl(`wss://x/v1beta3/crypto/${loc}`)?.kind).toBe('crypto');
    for (const feed of [
      'iex',
      'sip',
      'delayed_sip',
      'boats',
      'overnight',
      'test',
      'indicative',
      'opra',
      'news',
    ])
      expect(alpacaPathFor(feedPath(feed).path)).toBe(feedPath(feed).path);
  });
});

describe('transcoder properties', () => {
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
  const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
  const symbol = fc.stringMatching(/^[A-Z]{1,5}$/);
  const text = fc.string({ unit: 'binary', maxLength: 40 });
  const time = fc
    .tuple(fc.integer({ min: 0, max: 2 ** 34 + 1000 }), fc.integer({ min: 0, max: 999_999_999 }))
    .map(([sec, nsec]) => {
      const base = new Date(sec * 1000).toISOString().slice(0, 19);
      return nsec === 0 ? `${base}Z` : `${base}.${String(nsec).padStart(9, '0').replace(/0+$/, '')}Z`;
    });
  const item = fc.oneof(
    fc.record({
      T: fc.constant('t'),
      S: symbol,
      i: int64,
      x: text,
      p: finite,
      s: uint32,
      c: fc.array(text),
      z: text,
      t: time,
      r: time,
    }),
    fc.record({
      T: fc.constant('q'),
      S: symbol,
      bx: text,
      bp: finite,
      bs: uint32,
      ax: text,
      ap: finite,
      as: uint32,
      t: time,
    }),
    fc.record({
      T: fc.constantFrom('b', 'd', 'u'),
      S: symbol,
      o: finite,
      h: finite,
      l: finite,
      c: finite,
      v: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      n: uint32,
      vw: finite,
      t: time,
    }),
    fc.record({
      T: fc.constant('c'),
      S: symbol,
      oi: int64,
      op: finite,
      os: uint32,
      ci: int64,
      cp: finite,
      cs: uint32,
      t: time,
    }),
    fc.record({
      T: fc.constant('n'),
      id: int64,
      headline: text,
      created_at: time,
      updated_at: time,
      symbols: fc.array(symbol, { maxLength: 4 }),
    }),
    fc.record({ T: fc.constant('zz'), S: symbol, extra: fc.oneof(text, fc.boolean(), int64) }),
  );

  /**
   * Values as numbers compare: JSON has one number syntax, so a whole float64 (`1e17` prints as
   * `100000000000000000`) comes back from text as the integer it reads as; it is the same value when the double's
   * own shortest decimal is that text.
   */
  const canon = (v: unknown): unknown =>
    typeof v === 'bigint' && String(Number(v)) === String(v)
      ? Number(v)
      : Object.is(v, -0)
        ? 0
        : Array.isArray(v)
          ? v.map(canon)
          : typeof v === 'object' && v !== null
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canon(x)]))
            : v;

  // Generous time: a shared CI box runs this next to the daemon tests; the run count is the property's strength.
  it('JSON -> msgpack -> JSON and msgpack -> JSON -> msgpack give back the same values', {
    timeout: 60_000,
  }, () => {
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 5 }), (items) => {
        const json = jsonFrame(items);
        const msgpack = transcodeFrame(json, 'json', 'msgpack', 'stocks');
        const back = transcodeFrame(msgpack, 'msgpack', 'json', 'stocks');
        expect(canon(parseJsonLossless(Buffer.from(back).toString()))).toEqual(canon(items));
        const again = transcodeFrame(back, 'json', 'msgpack', 'stocks');
        expect(Buffer.from(again)).toEqual(Buffer.from(msgpack));
      }),
      { numRuns: 300 },
    );
  });
});

/** An AlpacaStream over a transport of our own, fed frames as the daemon would deliver them. */
function streamOver(kind: FeedKind): {
  stream: AlpacaStream;
  push: (data: Uint8Array, binary: boolean) => void;
} {
  let listener: ((m: { binary: boolean; data: Uint8Array }) => void) | undefined;
  const transport: AlpacaTransport = {
    subscribe: async () => ({ alreadySubscribed: false, reply: new Uint8Array() }),
    unsubscribe: async () => ({ stillSubscribed: false, reply: new Uint8Array() }),
    on: (event: string, l: unknown) => {
      if (event === 'message') listener = l as typeof listener;
      return transport;
    },
    close: async () => {},
  } as AlpacaTransport;
  const stream = new AlpacaStream(transport, { kind });
  return { stream, push: (data, binary) => listener?.({ data, binary }) };
}
