import { afterEach, describe, expect, it } from 'vitest';
import { type AlpacaMockOptions, startAlpacaMock } from '../src/index.js';
import { AlpacaClient, Cleanup, isData, type Message } from './client.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function record(options: AlpacaMockOptions, count: number): Promise<Message[]> {
  const mock = cleanup.add(await startAlpacaMock(options));
  const stocks = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
  await stocks.request({ action: 'subscribe', trades: ['AAPL', 'TSLA'], quotes: ['*'], bars: ['*'] });
  const data = await stocks.collect(isData, count, 8000);
  return data.slice(0, count);
}

describe('determinism', () => {
  it('gives the same messages for the same seed and subscriptions, different ones for another seed', async () => {
    const options = { seed: 42, rate: 200, tickMs: 1000, batchSize: 2 };
    const a = await record(options, 1000);
    const b = await record(options, 1000);
    expect(b).toEqual(a);
    // Long enough to include minute bars.
    expect(a.some((m) => m.T === 'b')).toBe(true);
    const c = await record({ ...options, seed: 43 }, 1000);
    expect(c).not.toEqual(a);
  });

  it('recovers the tick (sequence) of every message from its timestamp', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 2000, batchSize: 20, seed: 5 }));
    const stocks = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    const crypto = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v1beta3/crypto/us`));
    await stocks.request({ action: 'subscribe', trades: ['AAPL'], quotes: ['AAPL'] });
    await crypto.request({
      action: 'subscribe',
      trades: ['BTC/USD'],
      quotes: ['BTC/USD'],
      orderbooks: ['BTC/USD'],
    });
    const data = await stocks.collect(isData, 600, 8000);
    // One quote and one trade per tick, ticks consecutive; corrections/cancels share their trade's tick.
    const ticks = (T: string) => data.filter((m) => m.T === T).map((m) => mock.tickOf(m.t as string));
    const quoteTicks = ticks('q');
    expect(quoteTicks).toEqual(quoteTicks.map((_, k) => (quoteTicks[0] as number) + k));
    expect(ticks('t')).toEqual(quoteTicks.slice(0, ticks('t').length));
    let lastTradeTick = -1;
    for (const m of data) {
      if (m.T === 't') lastTradeTick = mock.tickOf(m.t as string);
      if (m.T === 'x' || m.T === 'c') expect(mock.tickOf(m.t as string)).toBe(lastTradeTick);
    }
    const cryptoData = await crypto.collect(isData, 300, 8000);
    for (const T of ['o', 'q', 't']) {
      const t = cryptoData.filter((m) => m.T === T && m.r !== true).map((m) => mock.tickOf(m.t as string));
      expect(t).toEqual(t.map((_, k) => (t[0] as number) + k));
    }
  });
});

describe('inspection', () => {
  it('records what each session sent and was sent, per key and endpoint', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100, unsubscribeTailMs: 0 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await client.request({ action: 'subscribe', trades: ['AAPL'], quotes: ['MSFT'] });
    await client.collect(isData, 20);
    await client.request({ action: 'unsubscribe', trades: ['AAPL'], quotes: ['MSFT'] });
    await mock.waitFor(() => !mock.feedRunning);

    const [session] = mock.sessions({ endpoint: 'v2/iex', key: 'mock-key' });
    expect(session).toBeDefined();
    expect(session?.received).toEqual([
      { action: 'auth', key: 'mock-key', secret: 'mock-secret' },
      { action: 'subscribe', trades: ['AAPL'], quotes: ['MSFT'] },
      { action: 'unsubscribe', trades: ['AAPL'], quotes: ['MSFT'] },
    ]);
    // The record is exactly what the client received, in order (timestamps as they serialise).
    expect(JSON.parse(JSON.stringify(session?.sent))).toEqual(client.messages);
    expect(JSON.parse(JSON.stringify(session?.sentData()))).toEqual(client.messages.filter(isData));
    expect(session?.stats).toMatchObject({
      messagesSent: client.messages.length,
      messagesReceived: 3,
      framesSent: client.frames.length,
      withheld: 0,
      unrecorded: 0,
    });
    expect(session?.subscriptions()).toMatchObject({ trades: [], quotes: [] });
  });

  it('counts messages beyond recordLimit instead of keeping them', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100, recordLimit: 5 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await client.request({ action: 'subscribe', quotes: ['AAPL'] });
    await client.collect(isData, 10);
    const session = mock.sessions()[0];
    expect(session?.sent.length).toBe(5);
    expect(session?.stats.messagesSent).toBeGreaterThanOrEqual(client.messages.length);
    expect(session?.stats.unrecorded).toBeGreaterThan(0);
  });

  it('waitForSession resolves for sessions that connect later', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const waiting = mock.waitForSession({ endpoint: 'v1beta3/crypto/us', authenticated: true });
    cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v1beta3/crypto/us`));
    const session = await waiting;
    expect(session).toMatchObject({
      endpoint: 'v1beta3/crypto/us',
      kind: 'market-data',
      encoding: 'json',
      key: 'mock-key',
    });
    await expect(mock.waitForSession({ endpoint: 'v2/sip' }, 50)).rejects.toMatchObject({
      code: 'ALPACA_MOCK_ERR_TIMEOUT',
    });
  });

  it('a waitFor predicate that throws rejects that wait and leaves the mock serving', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const rejected = expect(
      mock.waitFor(() => {
        if (mock.connectionCount() > 0) throw new Error('predicate bug');
        return false;
      }),
    ).rejects.toThrow('predicate bug');
    const client = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
    await rejected;
    expect(await client.next()).toEqual({ T: 'success', msg: 'connected' });
    await expect(mock.waitFor(() => JSON.parse('{'))).rejects.toThrow(SyntaxError);
  });

  it('is idle when nobody is subscribed', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 1000 }));
    cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    expect(mock.feedRunning).toBe(false);
    expect(mock.ticks).toBe(0);
  });
});
