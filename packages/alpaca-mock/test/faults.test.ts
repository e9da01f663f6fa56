import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startAlpacaMock } from '../src/index.js';
import { AlpacaClient, Cleanup, isData, sleep } from './client.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('fault injection', () => {
  it('drop() destroys the socket without a close frame', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    expect(mock.drop({ endpoint: 'v2/iex' })).toBe(1);
    expect((await client.closed).code).toBe(1006);
  });

  it('refuseAuth(code, n) answers the next n market-data auths with code, the socket stays open, then lets in', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    mock.refuseAuth(406, 2);
    for (const _ of [1, 2]) {
      const refused = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
      await refused.next((m) => m.msg === 'connected');
      refused.send({ action: 'auth', key: 'mock-key', secret: 'mock-secret' });
      expect(await refused.next()).toEqual({ T: 'error', code: 406, msg: 'connection limit exceeded' });
      expect(refused.closeCode).toBeNull();
      await refused.close();
    }
    expect(mock.refusedAuths).toBe(2);
    // Spent: the third auth is let in, and holds the one slot.
    cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(1);
  });

  it('refuseAuth(402) fails a re-auth with valid keys; count 0 disarms; bad arguments are typed errors', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    mock.refuseAuth(402);
    const refused = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
    await refused.next((m) => m.msg === 'connected');
    refused.send({ action: 'auth', key: 'mock-key', secret: 'mock-secret' });
    expect(await refused.next()).toEqual({ T: 'error', code: 402, msg: 'auth failed' });
    mock.refuseAuth(406, 5);
    mock.refuseAuth(406, 0);
    await refused.close();
    cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    expect(mock.refusedAuths).toBe(1);
    const invalid = (option: string) =>
      expect.objectContaining({ code: 'ALPACA_MOCK_ERR_INVALID_OPTION', option });
    expect(() => mock.refuseAuth(401 as never)).toThrow(invalid('code'));
    expect(() => mock.refuseAuth(406, -1)).toThrow(invalid('count'));
    expect(() => mock.refuseAuth(406, 1.5)).toThrow(invalid('count'));
    expect(mock.pendingFaults.auths).toBe(0);
  });

  it('rateLimitUpgrades() answers the next N upgrades with 429 and Retry-After when asked', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    mock.rateLimitUpgrades(1, { retryAfterSeconds: 3 });
    mock.rateLimitUpgrades(1);
    const headers: (string | undefined)[] = [];
    for (let k = 0; k < 2; k++) {
      const ws = new WebSocket(`${mock.url}/v2/iex`);
      headers.push(
        await new Promise<string | undefined>((resolve, reject) => {
          ws.once('unexpected-response', (_req, res) => {
            expect(res.statusCode).toBe(429);
            resolve(res.headers['retry-after']);
            ws.terminate();
          });
          ws.once('open', () => reject(new Error('upgraded')));
          ws.once('error', () => {});
        }),
      );
    }
    expect(headers).toEqual(['3', undefined]);
    cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    expect(mock.pendingFaults.upgrades).toBe(0);
  });

  it('slowClient() sends 407 and closes', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    mock.slowClient();
    expect(await client.next()).toEqual({ T: 'error', code: 407, msg: 'slow client' });
    expect((await client.closed).code).toBe(1008);
  });

  it('stall() withholds data and pongs until resume(), counting what was withheld', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await client.request({ action: 'subscribe', quotes: ['AAPL'] });
    await client.collect(isData, 2);
    const session = await mock.waitForSession({ endpoint: 'v2/iex' });
    mock.stall({ id: session.id });
    await sleep(30);
    const before = client.messages.length;
    let pong = false;
    client.ws.once('pong', () => {
      pong = true;
    });
    client.ws.ping();
    await sleep(250);
    expect(client.messages.length).toBe(before);
    expect(pong).toBe(false);
    expect(session.stalled).toBe(true);
    expect(session.stats.withheld).toBeGreaterThan(0);
    mock.resume({ id: session.id });
    await client.collect(isData, before + 2);
    expect(pong).toBe(true);
  });

  it('push() sends a specific message to the chosen sessions only', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const iex = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    const sip = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/sip`));
    const trade = {
      T: 't',
      S: 'AAPL',
      i: 96921,
      x: 'D',
      p: 126.55,
      s: 1,
      c: ['@', 'I'],
      z: 'C',
      t: '2021-02-22T15:51:44.208Z',
    };
    expect(mock.push([trade], { endpoint: 'v2/iex' })).toBe(1);
    expect(await iex.next()).toEqual(trade);
    await sleep(50);
    expect(sip.messages.filter(isData)).toEqual([]);
    expect(mock.sessions({ endpoint: 'v2/iex' })[0]?.sent.at(-1)).toEqual(trade);
  });

  it('restart() closes every session with 1012, comes back on the same port, and the market carries on', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100 }));
    const port = mock.port;
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await client.request({ action: 'subscribe', trades: ['AAPL'] });
    const before = await client.collect((m) => m.T === 't', 3);
    const restarting = mock.restart({ downMs: 200 });
    expect((await client.closed).code).toBe(1012);
    await restarting;
    expect(mock.port).toBe(port);
    const again = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await again.request({ action: 'subscribe', trades: ['AAPL'] });
    const [first] = await again.collect((m) => m.T === 't', 1);
    // Alpaca replays nothing: the new session starts after the last id the old one saw.
    expect(first?.i as number).toBeGreaterThan(before.at(-1)?.i as number);
  });

  it('restart({ abrupt: true }) drops connections without a close frame', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    await mock.restart({ abrupt: true });
    expect((await client.closed).code).toBe(1006);
    cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
  });

  it('close() during a restart wins: the mock does not come back on its port', async () => {
    const mock = await startAlpacaMock();
    const port = mock.port;
    const restarting = mock.restart({ downMs: 100 });
    await mock.close();
    await restarting;
    const refused = await new Promise<string | undefined>((resolve) => {
      const probe = connect(port, mock.host);
      probe.once('connect', () => {
        probe.destroy();
        resolve(undefined);
      });
      probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});

describe('slow client detection', () => {
  it('sends 407 and drops a client whose unsent backlog exceeds slowClientBytes', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 'firehose', slowClientBytes: 64 * 1024 }));
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    const session = await mock.waitForSession({ endpoint: 'v2/iex' });
    await client.request({ action: 'subscribe', trades: ['*'], quotes: ['*'] });
    // Stop reading, like a strategy stuck in a long computation.
    client.socket?.pause();
    await mock.waitFor(() => session.closed, 10_000);
    expect(session.sent.at(-1)).toEqual({ T: 'error', code: 407, msg: 'slow client' });
    expect(session.stats.withheld).toBeGreaterThan(0);
    await mock.waitFor(() => !mock.feedRunning);
  });
});
