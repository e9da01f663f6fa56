import { afterEach, describe, expect, it } from 'vitest';
import { startAlpacaMock } from '../src/index.js';
import { AlpacaClient, Cleanup, KEY, SECRET } from './client.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function tryAuth(url: string, key = KEY, secret = SECRET) {
  const client = cleanup.add(await AlpacaClient.connect(url));
  await client.next((m) => m.msg === 'connected');
  client.send({ action: 'auth', key, secret });
  return { client, reply: await client.next() };
}

describe('connection limit', () => {
  it('answers a second session with the same keys on the same endpoint with 406 and keeps its socket open', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const first = await tryAuth(`${mock.url}/v2/iex`);
    expect(first.reply).toEqual({ T: 'success', msg: 'authenticated' });
    const second = await tryAuth(`${mock.url}/v2/iex`);
    expect(second.reply).toEqual({ T: 'error', code: 406, msg: 'connection limit exceeded' });
    expect(second.client.closeCode).toBeNull();
    expect(mock.connectionCount({ endpoint: 'v2/iex' })).toBe(2);
    expect(mock.sessionCount({ endpoint: 'v2/iex', key: KEY })).toBe(1);
    // The refused session cannot subscribe.
    expect(await second.client.request({ action: 'subscribe', trades: ['AAPL'] })).toMatchObject({
      code: 401,
    });
    // Once the first goes away cleanly, the slot is free at once.
    await first.client.close();
    await mock.waitFor(() => mock.sessionCount({ endpoint: 'v2/iex' }) === 0);
    second.client.send({ action: 'auth', key: KEY, secret: SECRET });
    expect(await second.client.next()).toEqual({ T: 'success', msg: 'authenticated' });
  });

  it('lets different endpoints and different keys run side by side', async () => {
    const mock = cleanup.add(
      await startAlpacaMock({
        keys: [
          { key: KEY, secret: SECRET },
          { key: 'other', secret: 'other-secret' },
        ],
      }),
    );
    const replies = await Promise.all([
      tryAuth(`${mock.url}/v2/iex`),
      tryAuth(`${mock.url}/v2/sip`),
      tryAuth(`${mock.url}/v1beta3/crypto/us`),
      tryAuth(`${mock.url}/v1beta1/news`),
      tryAuth(`${mock.url}/v2/iex`, 'other', 'other-secret'),
    ]);
    for (const { reply } of replies) expect(reply).toEqual({ T: 'success', msg: 'authenticated' });
    expect(mock.sessionCount()).toBe(5);
    expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(2);
    expect(mock.sessionCount({ key: 'other' })).toBe(1);
  });

  it('honours a configured connection limit', async () => {
    const mock = cleanup.add(await startAlpacaMock({ connectionLimit: 2 }));
    expect((await tryAuth(`${mock.url}/v2/iex`)).reply.msg).toBe('authenticated');
    expect((await tryAuth(`${mock.url}/v2/iex`)).reply.msg).toBe('authenticated');
    expect((await tryAuth(`${mock.url}/v2/iex`)).reply.code).toBe(406);
  });

  // The hold is far longer than any test step, so the 406 never depends on how fast a loaded machine reconnects;
  // its expiry is proven separately with a short hold.
  it('keeps an abruptly dropped session half-dead for halfDeadMs: reconnecting sooner gets 406', async () => {
    const mock = cleanup.add(await startAlpacaMock({ halfDeadMs: 60_000 }));
    const first = await tryAuth(`${mock.url}/v2/iex`);
    expect(first.reply.msg).toBe('authenticated');
    expect(mock.drop({ endpoint: 'v2/iex' })).toBe(1);
    expect((await first.client.closed).code).toBe(1006);
    await mock.waitFor(() => mock.halfDeadCount({ endpoint: 'v2/iex', key: KEY }) === 1);
    expect((await tryAuth(`${mock.url}/v2/iex`)).reply.code).toBe(406);
    expect(mock.halfDeadCount()).toBe(1);
  });

  it('frees a half-dead slot once halfDeadMs has passed', async () => {
    const mock = cleanup.add(await startAlpacaMock({ halfDeadMs: 100 }));
    const first = await tryAuth(`${mock.url}/v2/iex`);
    expect(mock.drop({ endpoint: 'v2/iex' })).toBe(1);
    await first.client.closed;
    await mock.waitFor(() => mock.sessionCount() === 0 && mock.halfDeadCount() === 0, 3000);
    expect((await tryAuth(`${mock.url}/v2/iex`)).reply.msg).toBe('authenticated');
  });

  it('frees the slot at once after an abrupt drop when halfDeadMs is off (the default)', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const first = await tryAuth(`${mock.url}/v2/iex`);
    first.client.ws.terminate();
    await mock.waitFor(() => mock.connectionCount() === 0);
    expect((await tryAuth(`${mock.url}/v2/iex`)).reply.msg).toBe('authenticated');
  });
});

describe('HTTP 429 on upgrades', () => {
  it('refuses upgrades during refuseUpgrades(ms)', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    mock.refuseUpgrades(60_000); // longer than any connect on a loaded machine
    await expect(AlpacaClient.connect(`${mock.url}/v2/iex`)).rejects.toThrow('HTTP 429');
    expect(mock.refusedUpgrades).toBe(1);
  });

  it('accepts upgrades again once the refusal window is over', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    mock.refuseUpgrades(100);
    await new Promise((r) => setTimeout(r, 150));
    const client = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
    expect(await client.next()).toEqual({ T: 'success', msg: 'connected' });
    expect(mock.refusedUpgrades).toBe(0);
  });

  it('answers upgrades beyond upgradeRateLimit with 429', async () => {
    const mock = cleanup.add(await startAlpacaMock({ upgradeRateLimit: { max: 2, windowMs: 60_000 } }));
    cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
    cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/sip`));
    await expect(AlpacaClient.connect(`${mock.url}/v2/iex`)).rejects.toThrow('HTTP 429');
  });
});

describe('half-dead after a client vanishes', () => {
  it('also holds the slot when the client side disappears without a close frame', async () => {
    const mock = cleanup.add(await startAlpacaMock({ halfDeadMs: 60_000 }));
    const first = await tryAuth(`${mock.url}/v2/iex`);
    first.client.ws.terminate();
    await mock.waitFor(() => mock.halfDeadCount() === 1);
    expect((await tryAuth(`${mock.url}/v2/iex`)).reply.code).toBe(406);
  });
});
