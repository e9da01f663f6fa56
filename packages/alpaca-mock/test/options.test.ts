import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, resolveOptions, startAlpacaMock } from '../src/index.js';
import { Cleanup } from './client.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('options', () => {
  it.each([
    [{ port: -1 }, 'port'],
    [{ port: 70000 }, 'port'],
    [{ host: '' }, 'host'],
    [{ keys: [] }, 'keys'],
    [{ keys: [{ key: 'k' }] }, 'keys[0].secret'],
    [{ keys: [{ key: 'k', secret: 's', endpoints: ['v9/x'] }] }, 'keys[0].endpoints'],
    [{ connectionLimit: 0 }, 'connectionLimit'],
    [{ authTimeoutMs: 0 }, 'authTimeoutMs'],
    [{ symbolLimit: 1.5 }, 'symbolLimit'],
    [{ rate: 0 }, 'rate'],
    [{ rate: 'turbo' }, 'rate'],
    [{ batchSize: 0 }, 'batchSize'],
    [{ tickMs: -1 }, 'tickMs'],
    [{ seed: 'x' }, 'seed'],
    [{ startTime: 'yesterday-ish' }, 'startTime'],
    [{ symbols: { stocks: ['lower'] } }, 'symbols.stocks'],
    [{ symbols: { crypto: ['BTCUSD'] } }, 'symbols.crypto'],
    [{ upgradeRateLimit: { max: 1 } }, 'upgradeRateLimit.windowMs'],
    [{ accountFrames: 'xml' }, 'accountFrames'],
    [{ colour: 'blue' }, 'colour'],
  ])('rejects %j with an InvalidOptionError naming %s', (options, option) => {
    let caught: unknown;
    try {
      resolveOptions(options as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidOptionError);
    expect(caught).toMatchObject({
      name: 'InvalidOptionError',
      code: 'ALPACA_MOCK_ERR_INVALID_OPTION',
      option,
    });
  });

  it('has documented defaults', () => {
    const o = resolveOptions();
    expect(o).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      keys: [{ key: 'mock-key', secret: 'mock-secret' }],
      connectionLimit: 1,
      authTimeoutMs: 10_000,
      symbolLimit: 30,
      halfDeadMs: 0,
      rate: 10,
      batchSize: 1,
      tickMs: 100,
      seed: 1,
    });
    expect(resolveOptions({ rate: 'firehose' })).toMatchObject({ rate: 50_000, batchSize: 500 });
    expect(resolveOptions({ symbolLimit: Number.POSITIVE_INFINITY }).symbolLimit).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('rejects a port in use with a ListenError', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.add({ close: () => new Promise<void>((r) => server.close(() => r())) });
    const port = (server.address() as { port: number }).port;
    await expect(startAlpacaMock({ port })).rejects.toMatchObject({
      name: 'ListenError',
      code: 'ALPACA_MOCK_ERR_LISTEN',
    });
  });

  it('rejects bad method arguments with an InvalidOptionError naming them, before doing anything', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const invalid = (option: string) =>
      expect.objectContaining({ name: 'InvalidOptionError', code: 'ALPACA_MOCK_ERR_INVALID_OPTION', option });
    expect(() => mock.refuseUpgrades(Number.NaN)).toThrow(invalid('durationMs'));
    expect(() => mock.waitFor(() => false, -1)).toThrow(invalid('timeoutMs'));
    expect(() => mock.tickOf('yesterday')).toThrow(invalid('timestamp'));
    await expect(mock.restart({ downMs: '100' as never })).rejects.toMatchObject({ option: 'downMs' });
    expect(mock.refusedUpgrades).toBe(0);
    expect(mock.port).toBeGreaterThan(0);
  });

  it('throws MockClosedError for injections after close()', async () => {
    const mock = await startAlpacaMock();
    await mock.close();
    expect(() => mock.drop()).toThrow(expect.objectContaining({ code: 'ALPACA_MOCK_ERR_CLOSED' }));
    await expect(mock.restart()).rejects.toMatchObject({ code: 'ALPACA_MOCK_ERR_CLOSED' });
  });
});
