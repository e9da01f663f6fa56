import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startAlpacaMock } from '../src/index.js';
import { AlpacaClient, Cleanup, isData, KEY, type Message, SECRET } from './client.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

type Level = { p: number; s: number };

function applyLevels(side: Map<number, number>, levels: Level[]): void {
  for (const { p, s } of levels) {
    if (s === 0) side.delete(p);
    else side.set(p, s);
  }
}

describe('crypto', () => {
  it('sends an r:true orderbook snapshot first, then deltas that rebuild the REST book exactly', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100, unsubscribeTailMs: 0 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v1beta3/crypto/us`));
    expect(await client.request({ action: 'subscribe', orderbooks: ['BTC/USD'] })).toEqual({
      T: 'subscription',
      trades: [],
      quotes: [],
      orderbooks: ['BTC/USD'],
      bars: [],
      updatedBars: [],
      dailyBars: [],
    });
    const books = await client.collect((m) => m.T === 'o', 15);
    expect(books[0]).toMatchObject({ S: 'BTC/USD', r: true });
    expect((books[0] as Message).b as Level[]).toHaveProperty('length');
    expect(((books[0] as Message).b as Level[]).length).toBeGreaterThan(0);
    expect(books.slice(1).every((m) => m.r === undefined)).toBe(true);
    // Deltas remove levels with s:0 as the ladder follows the price.
    await client.collect(
      (m) => m.T === 'o' && [...(m.b as Level[]), ...(m.a as Level[])].some((l) => l.s === 0),
      1,
    );
    await client.request({ action: 'unsubscribe', orderbooks: ['BTC/USD'] });
    await mock.waitFor(() => !mock.feedRunning);

    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    for (const m of client.messages.filter((x) => x.T === 'o')) {
      applyLevels(bids, m.b as Level[]);
      applyLevels(asks, m.a as Level[]);
    }
    const res = await fetch(`${mock.httpUrl}/v1beta3/crypto/us/latest/orderbooks?symbols=BTC/USD`);
    const body = (await res.json()) as { orderbooks: Record<string, { b: Level[]; a: Level[] }> };
    const rest = body.orderbooks['BTC/USD'];
    expect(new Map(rest?.b.map((l) => [l.p, l.s]))).toEqual(bids);
    expect(new Map(rest?.a.map((l) => [l.p, l.s]))).toEqual(asks);
  });

  it('sends trades with the taker side, quotes and bars', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 400, tickMs: 1000, batchSize: 4 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v1beta3/crypto/us`));
    await client.request({ action: 'subscribe', trades: ['ETH/USD'], quotes: ['ETH/USD'], bars: ['*'] });
    await client.collect((m) => m.T === 'b', 2, 8000);
    const trade = client.messages.find((m) => m.T === 't') as Message;
    expect(Object.keys(trade)).toEqual(['T', 'S', 'p', 's', 't', 'i', 'tks']);
    expect(['B', 'S']).toContain(trade.tks);
    expect(client.messages.find((m) => m.T === 'q')).toMatchObject({ S: 'ETH/USD' });
    expect(client.messages.filter((m) => m.T === 'b').length).toBeGreaterThanOrEqual(2);
  });
});

describe('news', () => {
  it('routes articles by symbols[] and sends only those about subscribed symbols', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 200, newsEveryTicks: 2 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v1beta1/news`));
    await client.request({ action: 'subscribe', news: ['TSLA', 'AAPL'] });
    const news = await client.collect(isData, 5);
    for (const n of news) {
      expect(n.T).toBe('n');
      expect(n.S).toBeUndefined();
      expect((n.symbols as string[]).some((s) => s === 'TSLA' || s === 'AAPL')).toBe(true);
      expect(n).toMatchObject({ source: 'benzinga' });
      for (const field of [
        'id',
        'headline',
        'summary',
        'author',
        'created_at',
        'updated_at',
        'url',
        'content',
      ]) {
        expect(n[field]).toBeDefined();
      }
    }
    // Ids count up from 1 without gaps.
    expect(news.map((n) => n.id)).toEqual(news.map((_, k) => k + 1));
  });
});

class AccountClient {
  readonly messages: Message[] = [];
  binaryFrames = 0;
  private waiting: (() => void) | null = null;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.binaryFrames += 1;
      this.messages.push(JSON.parse(String(data)) as Message);
      this.waiting?.();
    });
    ws.on('error', () => {});
  }
  static async open(url: string): Promise<AccountClient> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new AccountClient(ws);
  }
  async next(predicate: (m: Message) => boolean, timeoutMs = 4000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no match; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((r) => {
        this.waiting = r;
        setTimeout(r, 50);
      });
    }
  }
  send(m: unknown) {
    this.ws.send(JSON.stringify(m));
  }
  close() {
    this.ws.terminate();
  }
}

describe('account stream', () => {
  it('authorizes with the documented auth message and streams trade_updates after listen, in binary frames', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 200, tradeUpdateEveryTicks: 1 }));
    const client = cleanup.add(await AccountClient.open(`${mock.url}/stream`));
    client.send({ action: 'auth', key: KEY, secret: SECRET });
    expect(await client.next((m) => m.stream === 'authorization')).toEqual({
      stream: 'authorization',
      data: { status: 'authorized', action: 'authenticate' },
    });
    client.send({ action: 'listen', data: { streams: ['trade_updates'] } });
    expect(await client.next((m) => m.stream === 'listening')).toEqual({
      stream: 'listening',
      data: { streams: ['trade_updates'] },
    });
    await client.next((m) => (m.data as Message | undefined)?.event === 'fill');
    const updates = client.messages.filter((m) => m.stream === 'trade_updates');
    expect(((updates[0] as Message).data as Message).event).toBe('new');
    const fill = updates.find((m) => (m.data as Message).event === 'fill')?.data as Message;
    for (const field of ['order', 'price', 'qty', 'position_qty', 'timestamp', 'execution_id']) {
      expect(fill[field]).toBeDefined();
    }
    expect(client.binaryFrames).toBe(client.messages.length);
  });

  it('accepts the SDK authenticate form, and an empty listen stops the stream', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 200, tradeUpdateEveryTicks: 1 }));
    const client = cleanup.add(await AccountClient.open(`${mock.url}/stream`));
    client.send({ action: 'authenticate', data: { key_id: KEY, secret_key: SECRET } });
    expect((await client.next((m) => m.stream === 'authorization')).data).toMatchObject({
      status: 'authorized',
    });
    client.send({ action: 'listen', data: { streams: ['trade_updates'] } });
    await client.next((m) => m.stream === 'trade_updates');
    client.send({ action: 'listen', data: { streams: [] } });
    await client.next(
      (m) => m.stream === 'listening' && (m.data as { streams: string[] }).streams.length === 0,
    );
    await mock.waitFor(() => !mock.feedRunning);
    expect(mock.sessions({ endpoint: 'stream' })[0]?.subscriptions()).toEqual({ streams: [] });
  });

  it('answers bad credentials with unauthorized and closes', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(await AccountClient.open(`${mock.url}/stream`));
    const closed = new Promise((r) => client.ws.once('close', r));
    client.send({ action: 'auth', key: KEY, secret: 'nope' });
    expect((await client.next((m) => m.stream === 'authorization')).data).toEqual({
      status: 'unauthorized',
      action: 'authenticate',
    });
    await closed;
  });
});
