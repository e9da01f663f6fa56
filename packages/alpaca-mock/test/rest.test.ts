import { afterEach, describe, expect, it } from 'vitest';
import { type AlpacaMock, startAlpacaMock } from '../src/index.js';
import { AlpacaClient, Cleanup, KEY, type Message, SECRET } from './client.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const auth = { 'APCA-API-KEY-ID': KEY, 'APCA-API-SECRET-KEY': SECRET };

async function get(mock: AlpacaMock, path: string, headers: Record<string, string> = auth) {
  const res = await fetch(`${mock.httpUrl}${path}`, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, Message> };
}

describe('REST market data', () => {
  it('serves stock snapshots, single snapshots and latest values', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const multi = await get(mock, '/v2/stocks/snapshots?symbols=AAPL,MSFT');
    expect(multi.status).toBe(200);
    expect(Object.keys(multi.body)).toEqual(['AAPL', 'MSFT']);
    const aapl = multi.body.AAPL as Message;
    expect(Object.keys(aapl)).toEqual([
      'latestTrade',
      'latestQuote',
      'minuteBar',
      'dailyBar',
      'prevDailyBar',
    ]);
    expect(Object.keys(aapl.latestTrade as Message)).toEqual(['t', 'x', 'p', 's', 'c', 'i', 'z']);

    const single = await get(mock, '/v2/stocks/AAPL/snapshot');
    expect(single.body).toEqual({ symbol: 'AAPL', ...aapl });

    const trades = await get(mock, '/v2/stocks/trades/latest?symbols=AAPL');
    expect(trades.body).toEqual({ trades: { AAPL: aapl.latestTrade } });
    expect((await get(mock, '/v2/stocks/AAPL/quotes/latest')).body).toEqual({
      symbol: 'AAPL',
      quote: aapl.latestQuote,
    });
    expect((await get(mock, '/v2/stocks/bars/latest?symbols=AAPL')).body.bars?.AAPL).toMatchObject({
      o: expect.any(Number),
    });
  });

  it('serves from the same market as the stream: the latest REST trade is the last streamed one', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100, unsubscribeTailMs: 0 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await client.request({ action: 'subscribe', trades: ['NVDA'] });
    await client.collect((m) => m.T === 't', 5);
    await client.request({ action: 'unsubscribe', trades: ['NVDA'] });
    await mock.waitFor(() => !mock.feedRunning);
    const last = client.messages.filter((m) => m.T === 't').at(-1) as Message;
    const { body } = await get(mock, '/v2/stocks/NVDA/trades/latest');
    // REST trades carry no receive time `r`: that is the stream's.
    const { T: _T, S: _S, r: _r, ...fields } = last;
    expect(body.trade).toEqual(fields);
  });

  it('serves crypto snapshots without keys', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const { status, body } = await get(mock, '/v1beta3/crypto/us/snapshots?symbols=BTC/USD,ETH/USD', {});
    expect(status).toBe(200);
    expect(Object.keys(body.snapshots as Message)).toEqual(['BTC/USD', 'ETH/USD']);
    expect((body.snapshots as Record<string, Message>)['BTC/USD']?.latestTrade).toMatchObject({ tks: 'B' });
    const books = await get(mock, '/v1beta3/crypto/us/latest/orderbooks?symbols=BTC/USD', {});
    const book = (books.body.orderbooks as Record<string, { b: { p: number }[]; a: { p: number }[] }>)[
      'BTC/USD'
    ];
    expect(book?.b.length).toBe(10);
    // Best bid below best ask, each side sorted best first.
    expect((book?.b[0]?.p as number) < (book?.a[0]?.p as number)).toBe(true);
  });

  it("answers with Alpaca's error shapes", async () => {
    const mock = cleanup.add(await startAlpacaMock());
    expect(await get(mock, '/v2/stocks/snapshots?symbols=AAPL', {})).toEqual({
      status: 401,
      body: { code: 40110000, message: 'request is not authorized' },
    });
    expect(
      (await get(mock, '/v2/stocks/snapshots?symbols=AAPL', { ...auth, 'APCA-API-SECRET-KEY': 'x' })).status,
    ).toBe(401);
    expect(
      (
        await get(mock, '/v1beta3/crypto/us/snapshots?symbols=BTC/USD', {
          'APCA-API-KEY-ID': 'x',
          'APCA-API-SECRET-KEY': 'y',
        })
      ).status,
    ).toBe(401);
    expect(await get(mock, '/v2/stocks/snapshots?symbols=aa$')).toEqual({
      status: 400,
      body: { code: 40010001, message: 'invalid symbol: aa$' },
    });
    expect((await get(mock, '/v2/stocks/snapshots')).body).toEqual({
      code: 40010001,
      message: 'symbols is required',
    });
    expect((await get(mock, '/v2/nothing')).status).toBe(404);
    // A path that is not valid percent-encoding is a bad request, not an internal error.
    expect(await get(mock, '/v2/stocks/%E0%A4%A/snapshot')).toEqual({
      status: 400,
      body: { code: 40010001, message: 'invalid path encoding' },
    });
  });
});
