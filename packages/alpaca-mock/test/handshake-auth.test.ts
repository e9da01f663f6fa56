import { afterEach, describe, expect, it } from 'vitest';
import { startAlpacaMock } from '../src/index.js';
import { AlpacaClient, Cleanup, KEY, SECRET } from './client.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('handshake and auth', () => {
  it('sends connected first, then authenticated for a valid auth message', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
    expect(await client.next()).toEqual({ T: 'success', msg: 'connected' });
    client.send({ action: 'auth', key: KEY, secret: SECRET });
    expect(await client.next()).toEqual({ T: 'success', msg: 'authenticated' });
    expect(client.frames.every((f) => f.count === 1 && !f.binary)).toBe(true);
    expect(mock.sessionCount({ endpoint: 'v2/iex', key: KEY })).toBe(1);
  });

  it('authenticates from the upgrade headers without an auth message', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(
      await AlpacaClient.connect(`${mock.url}/v2/sip`, {
        headers: { 'APCA-API-KEY-ID': KEY, 'APCA-API-SECRET-KEY': SECRET },
      }),
    );
    expect(await client.next()).toEqual({ T: 'success', msg: 'connected' });
    expect(await client.next()).toEqual({ T: 'success', msg: 'authenticated' });
    // A second auth on an authenticated session is 403.
    client.send({ action: 'auth', key: KEY, secret: SECRET });
    expect(await client.next()).toEqual({ T: 'error', code: 403, msg: 'already authenticated' });
  });

  it('answers bad credentials with 402 and lets the client try again', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
    await client.next();
    client.send({ action: 'auth', key: KEY, secret: 'wrong' });
    expect(await client.next()).toEqual({ T: 'error', code: 402, msg: 'auth failed' });
    client.send({ action: 'auth', key: KEY, secret: SECRET });
    expect(await client.next()).toEqual({ T: 'success', msg: 'authenticated' });
  });

  it('answers subscribe before auth with 401', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
    await client.next();
    client.send({ action: 'subscribe', trades: ['AAPL'] });
    expect(await client.next()).toEqual({ T: 'error', code: 401, msg: 'not authenticated' });
  });

  it('sends 404 and closes when no auth arrives within authTimeoutMs', async () => {
    const mock = cleanup.add(await startAlpacaMock({ authTimeoutMs: 150 }));
    const client = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
    await client.next();
    expect(await client.next()).toEqual({ T: 'error', code: 404, msg: 'auth timeout' });
    await client.closed;
    await mock.waitFor(() => mock.connectionCount() === 0);
    expect(mock.sessions()[0]?.closed).toBe(true);
  });

  it('answers malformed messages, unknown actions and bad symbols with 400', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(await AlpacaClient.authenticated(`${mock.url}/v2/iex`));
    client.ws.send('{not json');
    expect(await client.next()).toMatchObject({ T: 'error', code: 400, msg: 'invalid syntax' });
    client.send({ action: 'dance' });
    expect(await client.next()).toMatchObject({ code: 400 });
    client.send(['not', 'an', 'object']);
    expect(await client.next()).toMatchObject({ code: 400 });
    expect(await client.request({ action: 'subscribe', trades: ['aapl lower'] })).toMatchObject({
      code: 400,
    });
    expect(await client.request({ action: 'subscribe', trades: 'AAPL' })).toMatchObject({ code: 400 });
    expect(await client.request({ action: 'subscribe', trades: [42] })).toMatchObject({ code: 400 });
    // The session is still usable after every error.
    expect(await client.request({ action: 'subscribe', trades: ['AAPL'] })).toMatchObject({
      T: 'subscription',
    });
  });

  it('answers 409 when the key plan lacks the feed', async () => {
    const mock = cleanup.add(
      await startAlpacaMock({ keys: [{ key: 'iex-only', secret: 's', endpoints: ['v2/iex'] }] }),
    );
    const sip = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/sip`));
    await sip.next();
    sip.send({ action: 'auth', key: 'iex-only', secret: 's' });
    expect(await sip.next()).toEqual({ T: 'error', code: 409, msg: 'insufficient subscription' });
    const iex = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
    await iex.next();
    iex.send({ action: 'auth', key: 'iex-only', secret: 's' });
    expect(await iex.next()).toEqual({ T: 'success', msg: 'authenticated' });
  });

  it('accepts OAuth and broker tokens, and answers 411 for a token without the data scope', async () => {
    const mock = cleanup.add(
      await startAlpacaMock({
        tokens: [
          { token: 'tok-data', scopes: ['data'] },
          { token: 'tok-trading', scopes: ['trading'] },
        ],
      }),
    );
    const a = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
    await a.next();
    a.send({ action: 'auth', key: 'oauth', secret: 'tok-data' });
    expect(await a.next()).toEqual({ T: 'success', msg: 'authenticated' });
    expect(mock.sessionCount({ key: 'oauth:tok-data' })).toBe(1);

    const b = cleanup.add(await AlpacaClient.connect(`${mock.url}/v2/iex`));
    await b.next();
    b.send({ action: 'auth', key: 'access_token', secret: 'tok-trading' });
    expect(await b.next()).toEqual({ T: 'error', code: 411, msg: 'insufficient scope' });
  });

  it('answers an unknown path with HTTP 404 on the upgrade', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    await expect(AlpacaClient.connect(`${mock.url}/v2/nope`)).rejects.toThrow('HTTP 404');
  });
});
