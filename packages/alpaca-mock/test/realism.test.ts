// The mock is no kinder than Alpaca (issue 16): 64-bit crypto trade ids beyond 2^53, Go's JSON escaping, the
// receive time `r` on stock trades and quotes, RFC3339Nano timestamps, news with zero, one or three symbols, images
// and very long bodies, and (as an option) acks that leave out empty channels.
import { decode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import { startAlpacaMock } from '../src/index.js';
import { AlpacaClient, Cleanup, type Message } from './client.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Every raw frame the client receives, as bytes. */
function rawFrames(client: AlpacaClient): Buffer[] {
  const frames: Buffer[] = [];
  client.ws.on('message', (data) => frames.push(Buffer.from(data as Buffer)));
  return frames;
}

describe('like Alpaca', () => {
  it('numbers crypto trades with 64-bit ids beyond 2^53, exact in JSON and as int64 in msgpack', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100, connectionLimit: 2 }));
    for (const encoding of ['json', 'msgpack'] as const) {
      const client = cleanup.add(
        await AlpacaClient.authenticated(`${mock.url}/v1beta3/crypto/us`, { encoding }),
      );
      const frames = rawFrames(client);
      await client.request({ action: 'subscribe', trades: ['BTC/USD'] });
      await client.collect((m) => m.T === 't', 3);
      const ids: bigint[] = [];
      for (const frame of frames) {
        if (encoding === 'json') {
          for (const m of frame.toString().matchAll(/"i":(\d+)/g)) ids.push(BigInt(m[1]!));
        } else {
          for (const m of decode(frame, { useBigInt64: true }) as Message[])
            if (m.T === 't') ids.push(m.i as bigint);
        }
      }
      expect(ids.length).toBeGreaterThanOrEqual(3);
      for (const id of ids) expect(id > 2n ** 53n).toBe(true);
      // Consecutive and exact: a double could not tell neighbours apart at this size.
      for (let k = 1; k < ids.length; k++) expect(ids[k]! - ids[k - 1]!).toBe(1n);
    }
  });

  it('escapes <, > and & like Go, sends r on stock trades and quotes, and writes RFC3339Nano times', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100, newsEveryTicks: 1 }));
    const news = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v1beta1/news`));
    const frames = rawFrames(news);
    await news.request({ action: 'subscribe', news: ['*'] });
    await news.collect((m) => m.T === 'n', 2);
    const text = frames.map((f) => f.toString()).join('');
    expect(text).toContain('\\u003cp\\u003e');
    expect(text).not.toMatch(/[<>]/);

    const stocks = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await stocks.request({ action: 'subscribe', trades: ['AAPL'], quotes: ['AAPL'] });
    const items = await stocks.collect((m) => m.T === 't' || m.T === 'q', 6);
    for (const m of items) {
      expect(typeof m.r).toBe('string');
      expect(Date.parse(m.r as string)).toBeGreaterThanOrEqual(Date.parse(m.t as string));
      // Go's RFC3339Nano: no trailing zeros in the fraction.
      for (const t of [m.t, m.r] as string[]) expect(t).toMatch(/T\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/);
    }
  });

  it('sends news with no symbol, three symbols, images and very long bodies', async () => {
    const mock = cleanup.add(
      await startAlpacaMock({
        rate: 1000,
        newsEveryTicks: 1,
        symbols: { stocks: ['AAPL', 'MSFT', 'AMZN', 'TSLA'] },
      }),
    );
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v1beta1/news`));
    await client.request({ action: 'subscribe', news: ['*'] });
    const articles = await client.collect((m) => m.T === 'n', 150, 20_000);
    const counts = new Set(articles.map((a) => (a.symbols as string[]).length));
    expect(counts.has(0)).toBe(true);
    expect(counts.has(3)).toBe(true);
    expect(articles.some((a) => Array.isArray(a.images) && (a.images as unknown[]).length > 0)).toBe(true);
    expect(articles.some((a) => (a.content as string).length > 30_000)).toBe(true);
  });

  it('writes msgpack numbers in the fixed widths of Go types: int64 ids, uint32 sizes, float64 prices', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100, connectionLimit: 2 }));
    const stocks = cleanup.add(
      await AlpacaClient.authenticated(`${mock.url}/v2/iex`, { encoding: 'msgpack' }),
    );
    const frames = rawFrames(stocks);
    await stocks.request({ action: 'subscribe', trades: ['AAPL'] });
    await stocks.collect((m) => m.T === 't', 3);
    const after = (frame: Buffer, key: string): number[] => {
      const marker = Buffer.from([0xa0 | key.length, ...Buffer.from(key)]);
      const out: number[] = [];
      for (let at = frame.indexOf(marker); at >= 0; at = frame.indexOf(marker, at + 1))
        out.push(frame[at + marker.length]!);
      return out;
    };
    const trades = frames.filter((f) => (decode(f) as Message[]).every((m) => m.T === 't'));
    expect(trades.length).toBeGreaterThan(0);
    for (const f of trades) {
      expect(new Set(after(f, 'i'))).toEqual(new Set([0xd3]));
      expect(new Set(after(f, 'p'))).toEqual(new Set([0xcb]));
      expect(new Set(after(f, 's'))).toEqual(new Set([0xce]));
    }
    const crypto = cleanup.add(
      await AlpacaClient.authenticated(`${mock.url}/v1beta3/crypto/us`, { encoding: 'msgpack' }),
    );
    const cryptoFrames = rawFrames(crypto);
    await crypto.request({ action: 'subscribe', trades: ['BTC/USD'] });
    await crypto.collect((m) => m.T === 't', 2);
    const cryptoTrades = cryptoFrames.filter((f) =>
      (decode(f, { useBigInt64: true }) as Message[]).every((m) => m.T === 't'),
    );
    for (const f of cryptoTrades) expect(new Set(after(f, 's'))).toEqual(new Set([0xcb]));
  });

  it('sends the perps feed\'s pricing items (T:"p") to pricing subscribers, in Alpaca\'s JSON and msgpack', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100, connectionLimit: 3 }));
    const perps = `${mock.url}/v1beta1/crypto-perps/global`;
    // The Go SDK's fixture: T, S, t, x, ip, mp, fr, oi, ft (see the adapter's corpus, crypto-perps.json).
    const keys = ['T', 'S', 't', 'x', 'ip', 'mp', 'fr', 'oi', 'ft'];
    const json = cleanup.add(await AlpacaClient.authenticated(perps));
    await json.request({ action: 'subscribe', pricing: ['BTC-PERP'] });
    const items = await json.collect((m) => m.T === 'p', 3);
    for (const m of items) {
      expect(Object.keys(m)).toEqual(keys);
      expect(m).toMatchObject({ S: 'BTC-PERP', x: 'PERP' });
      for (const k of ['ip', 'mp', 'fr', 'oi']) expect(typeof m[k]).toBe('number');
      for (const k of ['t', 'ft']) expect(m[k]).toMatch(/T\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/);
      // The next funding is on the hour after t.
      const ft = Date.parse(m.ft as string);
      expect(ft % 3_600_000).toBe(0);
      expect(ft).toBeGreaterThan(Date.parse(m.t as string));
    }
    // Only what was asked for: no trades, quotes or books ride along.
    expect(json.messages.filter((m) => m.T !== 'success' && m.T !== 'subscription' && m.T !== 'p')).toEqual(
      [],
    );

    const packed = cleanup.add(await AlpacaClient.authenticated(perps, { encoding: 'msgpack' }));
    const frames = rawFrames(packed);
    await packed.request({ action: 'subscribe', pricing: ['ETH-PERP'] });
    const packedItems = await packed.collect((m) => m.T === 'p', 3);
    for (const m of packedItems) expect(Object.keys(m)).toEqual(keys);
    const after = (frame: Buffer, key: string): number[] => {
      const marker = Buffer.from([0xa0 | key.length, ...Buffer.from(key)]);
      const out: number[] = [];
      for (let at = frame.indexOf(marker); at >= 0; at = frame.indexOf(marker, at + 1))
        out.push(frame[at + marker.length]!);
      return out;
    };
    const pricingFrames = frames.filter((f) => (decode(f) as Message[]).every((m) => m.T === 'p'));
    expect(pricingFrames.length).toBeGreaterThan(0);
    for (const f of pricingFrames) {
      // float64 for every number, whole or not (open interest included), and the timestamp extension -1 for t, ft.
      for (const k of ['ip', 'mp', 'fr', 'oi']) expect(new Set(after(f, k))).toEqual(new Set([0xcb]));
      for (const k of ['t', 'ft']) for (const b of after(f, k)) expect([0xd6, 0xd7, 0xc7]).toContain(b);
    }

    // A perps client on trades alone gets no pricing.
    const tradesOnly = cleanup.add(await AlpacaClient.authenticated(perps));
    await tradesOnly.request({ action: 'subscribe', trades: ['BTC-PERP'] });
    await tradesOnly.collect((m) => m.T === 't', 3);
    expect(tradesOnly.messages.some((m) => m.T === 'p')).toBe(false);
  });

  it("acks may leave out empty channels (acks: 'omit-empty'), and list them all by default", async () => {
    const mock = cleanup.add(await startAlpacaMock({ acks: 'omit-empty' }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    expect(await client.request({ action: 'subscribe', trades: ['AAPL'] })).toEqual({
      T: 'subscription',
      trades: ['AAPL'],
      corrections: ['AAPL'],
      cancelErrors: ['AAPL'],
    });
    await expect(startAlpacaMock({ acks: 'some' as never })).rejects.toMatchObject({
      code: 'ALPACA_MOCK_ERR_INVALID_OPTION',
    });
  });
});
