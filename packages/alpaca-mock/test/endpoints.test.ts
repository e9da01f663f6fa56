import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ENDPOINT_PATHS, startAlpacaMock } from '../src/index.js';
import { AlpacaClient, Cleanup, isData } from './client.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const FIRST_SUBSCRIPTION: Record<string, Record<string, string[]>> = {
  stocks: { trades: ['*'] },
  crypto: { trades: ['*'] },
  options: { trades: ['*'] },
  news: { news: ['*'] },
};

function assetClass(path: string): string {
  if (path.includes('crypto')) return 'crypto';
  if (path.endsWith('indicative') || path.endsWith('opra')) return 'options';
  if (path.endsWith('news')) return 'news';
  return 'stocks';
}

describe('every market-data endpoint', () => {
  it.each(ENDPOINT_PATHS.filter((p) => p !== 'stream'))(
    '%s: handshake, auth, subscribe, data',
    async (path) => {
      const mock = cleanup.add(await startAlpacaMock({ rate: 200, newsEveryTicks: 1 }));
      const cls = assetClass(path);
      const client = cleanup.add(
        await AlpacaClient.authenticated(`${mock.url}/${path}`, {
          encoding: cls === 'options' ? 'msgpack' : 'json',
        }),
      );
      expect(await client.request({ action: 'subscribe', ...FIRST_SUBSCRIPTION[cls] })).toMatchObject({
        T: 'subscription',
      });
      const [first] = await client.collect(isData, 1);
      expect(first?.T).toBe(cls === 'news' ? 'n' : 't');
      if (path === 'v2/test') expect(first?.S).toBe('FAKEPACA');
    },
  );
});

describe('permessage-deflate', () => {
  it('is negotiated when enabled and the client offers it', async () => {
    const mock = cleanup.add(await startAlpacaMock({ perMessageDeflate: true }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    expect(client.ws.extensions).toContain('permessage-deflate');
  });

  it('is off by default', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    expect(client.ws.extensions).toBe('');
  });
});

describe('account stream before auth', () => {
  it('refuses listen before auth, and closes a silent client after authTimeoutMs', async () => {
    const mock = cleanup.add(await startAlpacaMock({ authTimeoutMs: 200 }));
    const ws = new WebSocket(`${mock.url}/stream`);
    cleanup.add({ close: () => ws.terminate() });
    const messages: unknown[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    expect(code).toBe(1008);
    expect(messages).toEqual([
      { stream: 'authorization', data: { status: 'unauthorized', action: 'listen' } },
      { stream: 'authorization', data: { status: 'unauthorized', action: 'authenticate' } },
    ]);
  });
});
