import { afterEach, describe, expect, it } from 'vitest';
import { startAlpacaMock } from '../src/index.js';
import { AlpacaClient, Cleanup, isData, sleep } from './client.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const EMPTY_STOCK_ACK = {
  T: 'subscription',
  trades: [],
  quotes: [],
  bars: [],
  updatedBars: [],
  dailyBars: [],
  statuses: [],
  lulds: [],
  corrections: [],
  cancelErrors: [],
  imbalances: [],
};

describe('subscriptions', () => {
  it('acks the full current set, with corrections and cancelErrors following trades', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    expect(
      await client.request({ action: 'subscribe', trades: ['AAPL'], quotes: ['AMD', 'CLDR'], bars: ['*'] }),
    ).toEqual({
      ...EMPTY_STOCK_ACK,
      trades: ['AAPL'],
      quotes: ['AMD', 'CLDR'],
      bars: ['*'],
      corrections: ['AAPL'],
      cancelErrors: ['AAPL'],
    });
    // The next ack lists everything, not the delta.
    expect(await client.request({ action: 'subscribe', trades: ['MSFT'], statuses: ['AAPL'] })).toEqual({
      ...EMPTY_STOCK_ACK,
      trades: ['AAPL', 'MSFT'],
      quotes: ['AMD', 'CLDR'],
      bars: ['*'],
      statuses: ['AAPL'],
      corrections: ['AAPL', 'MSFT'],
      cancelErrors: ['AAPL', 'MSFT'],
    });
    expect(
      await client.request({ action: 'unsubscribe', trades: ['AAPL'], quotes: ['AMD'], bars: ['*'] }),
    ).toEqual({
      ...EMPTY_STOCK_ACK,
      trades: ['MSFT'],
      quotes: ['CLDR'],
      statuses: ['AAPL'],
      corrections: ['MSFT'],
      cancelErrors: ['MSFT'],
    });
    const session = mock.sessions({ endpoint: 'v2/iex' })[0];
    expect(session?.subscriptions()).toMatchObject({ trades: ['MSFT'], quotes: ['CLDR'] });
  });

  it('rejects a request over the symbol limit with 405 and leaves the set exactly as it was', async () => {
    const mock = cleanup.add(await startAlpacaMock({ symbolLimit: 3 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await client.request({ action: 'subscribe', trades: ['AAPL'], quotes: ['AAPL', 'MSFT'] });
    // Two new symbols would make four distinct trades+quotes entries: the WHOLE request fails, bars included.
    expect(
      await client.request({ action: 'subscribe', trades: ['AMD'], quotes: ['TSLA'], bars: ['SPY'] }),
    ).toEqual({
      T: 'error',
      code: 405,
      msg: 'symbol limit exceeded',
    });
    // Bars do not count against the limit; the next ack shows nothing of the rejected request.
    expect(await client.request({ action: 'subscribe', bars: ['QQQ'] })).toEqual({
      ...EMPTY_STOCK_ACK,
      trades: ['AAPL'],
      quotes: ['AAPL', 'MSFT'],
      bars: ['QQQ'],
      corrections: ['AAPL'],
      cancelErrors: ['AAPL'],
    });
    expect(await client.request({ action: 'subscribe', quotes: ['AMD'] })).toMatchObject({
      T: 'subscription',
    });
  });

  it('answers a channel the feed does not have with 410', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const stocks = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    expect(await stocks.request({ action: 'subscribe', orderbooks: ['AAPL'] })).toEqual({
      T: 'error',
      code: 410,
      msg: 'invalid subscribe action for this feed',
    });
    const news = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v1beta1/news`));
    expect(await news.request({ action: 'subscribe', trades: ['AAPL'] })).toMatchObject({ code: 410 });
    expect(await news.request({ action: 'subscribe', news: ['AAPL'] })).toEqual({
      T: 'subscription',
      news: ['AAPL'],
    });
  });

  it('delivers only what was asked for, and * means every symbol of the universe', async () => {
    const mock = cleanup.add(
      await startAlpacaMock({ rate: 100, symbols: { stocks: ['AAPL', 'MSFT', 'AMD'] } }),
    );
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await client.request({ action: 'subscribe', trades: ['*'], quotes: ['MSFT'] });
    const data = await client.collect(isData, 60);
    const trades = data.filter((m) => m.T === 't');
    expect(new Set(trades.map((m) => m.S))).toEqual(new Set(['AAPL', 'MSFT', 'AMD']));
    expect(data.filter((m) => m.T === 'q').every((m) => m.S === 'MSFT')).toBe(true);
    expect(data.every((m) => ['t', 'q', 'c', 'x'].includes(m.T as string))).toBe(true);
    // Trade ids count up per symbol without gaps: nothing was lost.
    for (const symbol of ['AAPL', 'MSFT', 'AMD']) {
      const ids = trades.filter((m) => m.S === symbol).map((m) => m.i as number);
      expect(ids).toEqual(ids.map((_, k) => (ids[0] as number) + k));
    }
    // Stock trades carry the documented fields; timestamps have nanoseconds.
    // ...and the receive time `r`, as Alpaca's stream items carry (the Go SDK's tests send it).
    expect(Object.keys(trades[0] ?? {})).toEqual(['T', 'S', 'i', 'x', 'p', 's', 'c', 'z', 't', 'r']);
    expect(trades[0]?.t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/);
  });

  it('batches several messages per frame when batchSize > 1', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 500, batchSize: 5 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await client.request({ action: 'subscribe', trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] });
    await client.collect(isData, 30);
    expect(Math.max(...client.frames.map((f) => f.count))).toBeGreaterThanOrEqual(15);
  });

  it('keeps sending unsubscribed data for the configured tail, then stops', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100, unsubscribeTailMs: 300 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await client.request({ action: 'subscribe', trades: ['AAPL'] });
    await client.collect((m) => m.T === 't', 3);
    const ack = await client.request({ action: 'unsubscribe', trades: ['AAPL'] });
    expect(ack.trades).toEqual([]);
    const ackIndex = client.messages.indexOf(ack);
    // The tail runs out by itself: the feed stops once nobody wants data any more. A ping answered after the last
    // frame the mock sent is the barrier that says every frame of the tail has arrived.
    await mock.waitFor(() => !mock.feedRunning, 5000);
    await new Promise((resolve) => {
      client.ws.once('pong', resolve);
      client.ws.ping();
    });
    const after = client.messages.slice(ackIndex + 1).filter(isData);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((m) => m.S === 'AAPL')).toBe(true);
    // The tail is over: nothing more arrives.
    const settled = client.messages.length;
    await sleep(200);
    expect(client.messages.length).toBe(settled);
  });

  it('sends nothing after the unsubscribe ack when the tail is 0, and the feed goes idle', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100, unsubscribeTailMs: 0 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    expect(mock.feedRunning).toBe(false);
    await client.request({ action: 'subscribe', quotes: ['AAPL'] });
    expect(mock.feedRunning).toBe(true);
    await client.collect((m) => m.T === 'q', 3);
    const ack = await client.request({ action: 'unsubscribe', quotes: ['AAPL'] });
    const ackIndex = client.messages.indexOf(ack);
    await sleep(150);
    expect(client.messages.slice(ackIndex + 1)).toEqual([]);
    expect(mock.feedRunning).toBe(false);
  });

  it('serves FAKEPACA on the always-on test feed', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/test`));
    await client.request({ action: 'subscribe', trades: ['*'], quotes: ['FAKEPACA'] });
    const data = await client.collect(isData, 10);
    expect(data.every((m) => m.S === 'FAKEPACA')).toBe(true);
  });

  it('sends minute bars, daily bars, statuses, LULDs and imbalances at synthetic minute boundaries', async () => {
    // 1 synthetic second per tick at 400 ticks/s: a synthetic minute every 150 ms.
    const mock = cleanup.add(await startAlpacaMock({ rate: 400, tickMs: 1000, batchSize: 4 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/sip`));
    await client.request({
      action: 'subscribe',
      bars: ['AAPL'],
      dailyBars: ['AAPL'],
      updatedBars: ['AAPL'],
      statuses: ['AAPL'],
      lulds: ['AAPL'],
      imbalances: ['AAPL'],
    });
    const bars = await client.collect((m) => m.T === 'b', 3, 8000);
    for (const T of ['d', 's', 'l', 'i']) expect(client.messages.some((m) => m.T === T)).toBe(true);
    expect(Object.keys(bars[0] ?? {})).toEqual(['T', 'S', 't', 'o', 'h', 'l', 'c', 'v', 'n', 'vw']);
    // Bars start on minute boundaries, one synthetic minute apart.
    const starts = bars.map((b) => Date.parse(b.t as string));
    expect(starts.every((t) => t % 60_000 === 0)).toBe(true);
    expect((starts[1] as number) - (starts[0] as number)).toBe(60_000);
    // No trades or quotes were asked for, so none came.
    expect(client.messages.some((m) => m.T === 't' || m.T === 'q')).toBe(false);
  });
});

describe('corrections and cancel errors', () => {
  it('follow trades: they reference earlier trade ids and never reach quote-only subscribers', async () => {
    // rate 1000 in batches of 10: ~2% of trades are corrected or cancelled, so a few hundred trades show both.
    const mock = cleanup.add(await startAlpacaMock({ rate: 1000, batchSize: 10, seed: 3 }));
    const trader = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    const quoter = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/sip`));
    await trader.request({ action: 'subscribe', trades: ['*'] });
    await quoter.request({ action: 'subscribe', quotes: ['*'] });
    await trader.collect((m) => m.T === 'x', 1, 8000);
    await trader.collect((m) => m.T === 'c', 1, 8000);
    const seen = new Map<string, Set<number>>();
    for (const m of trader.messages) {
      const ids = seen.get(m.S as string) ?? new Set<number>();
      seen.set(m.S as string, ids);
      if (m.T === 't') ids.add(m.i as number);
      if (m.T === 'x') expect(ids.has(m.i as number)).toBe(true);
      if (m.T === 'c') {
        expect(ids.has(m.oi as number)).toBe(true);
        expect(Object.keys(m)).toEqual([
          'T',
          'S',
          'x',
          'oi',
          'op',
          'os',
          'oc',
          'ci',
          'cp',
          'cs',
          'cc',
          'z',
          't',
        ]);
      }
    }
    expect(quoter.messages.some((m) => m.T === 'x' || m.T === 'c' || m.T === 't')).toBe(false);
  });
});

describe('large subscribe messages', () => {
  it('accepts a subscribe split into WebSocket fragments, as alpaca-py sends it', async () => {
    const mock = cleanup.add(await startAlpacaMock({ symbolLimit: Number.POSITIVE_INFINITY }));
    const client = cleanup.add(
      await AlpacaClient.authenticated(`${mock.url}/v2/sip`, { encoding: 'msgpack' }),
    );
    const symbols = Array.from({ length: 8000 }, (_, k) => `S${k}`);
    const { encode } = await import('@msgpack/msgpack');
    const payload = Buffer.from(encode({ action: 'subscribe', bars: symbols }));
    expect(payload.length).toBeGreaterThan(32 * 1024);
    const chunk = 32 * 1024;
    for (let at = 0; at < payload.length; at += chunk) {
      client.ws.send(payload.subarray(at, at + chunk), { binary: true, fin: at + chunk >= payload.length });
    }
    const ack = await client.next((m) => m.T === 'subscription');
    expect((ack.bars as string[]).length).toBe(8000);
  });
});
