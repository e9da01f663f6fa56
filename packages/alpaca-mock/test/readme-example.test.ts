import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { afterEach, beforeEach, expect, it } from 'vitest';
import WebSocket from 'ws';

// The strategy code under test connects exactly as in production; only the URL and keys are injected.
function collectTrades(url: string, symbol: string, count: number): Promise<{ i: number; p: number }[]> {
  const ws = new WebSocket(`${url}/v2/iex`);
  const trades: { i: number; p: number }[] = [];
  return new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      for (const msg of JSON.parse(String(data))) {
        if (msg.msg === 'connected')
          ws.send(JSON.stringify({ action: 'auth', key: 'mock-key', secret: 'mock-secret' }));
        if (msg.msg === 'authenticated') ws.send(JSON.stringify({ action: 'subscribe', trades: [symbol] }));
        if (msg.T === 'error') reject(new Error(`${msg.code} ${msg.msg}`));
        if (msg.T === 't' && trades.push(msg) === count) {
          ws.close();
          resolve(trades);
        }
      }
    });
    ws.on('close', () => reject(new Error('connection closed')));
  });
}

let mock: AlpacaMock;
beforeEach(async () => {
  mock = await startAlpacaMock({ seed: 7, rate: 100 }); // 100 ticks/s: tests stay fast
});
afterEach(() => mock.close());

it('receives exactly the trades the mock sent, in order', async () => {
  const trades = await collectTrades(mock.url, 'AAPL', 20);
  const [session] = mock.sessions({ endpoint: 'v2/iex' });
  expect(session?.received).toContainEqual({ action: 'subscribe', trades: ['AAPL'] });
  const sent = (session?.sentData() ?? []) as { T: string; i: number }[];
  expect(trades.map((t) => t.i)).toEqual(
    sent
      .filter((m) => m.T === 't')
      .map((m) => m.i)
      .slice(0, 20),
  );
});

it('reports a dropped connection', async () => {
  const running = collectTrades(mock.url, 'AAPL', 1_000_000);
  await mock.waitForSession({ endpoint: 'v2/iex', authenticated: true });
  mock.drop({ endpoint: 'v2/iex' }); // like a network failure: no close frame
  await expect(running).rejects.toThrow('connection closed');
});
