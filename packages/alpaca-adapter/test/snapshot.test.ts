// RestSnapshotSource against the mock's real REST endpoints (undici over 127.0.0.1).
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestSnapshotSource, SnapshotFetchError } from '../src/index.js';
import { MOCK_CREDENTIALS } from './daemon-role.js';

let mock: AlpacaMock;
beforeAll(async () => {
  mock = await startAlpacaMock();
});
afterAll(async () => {
  await mock.close();
});

describe('RestSnapshotSource', () => {
  it('turns stock snapshots into stream-shaped items, T and S first', async () => {
    const source = new RestSnapshotSource({
      baseUrl: mock.httpUrl,
      feed: 'stocks',
      feedName: 'iex',
      credentials: MOCK_CREDENTIALS,
    });
    const snaps = await source.fetch(['AAPL', 'MSFT']);
    expect([...snaps.keys()].sort()).toEqual(['AAPL', 'MSFT']);
    const aapl = snaps.get('AAPL')!;
    expect(Object.keys(aapl.trade!).slice(0, 2)).toEqual(['T', 'S']);
    expect(aapl.trade).toMatchObject({ T: 't', S: 'AAPL' });
    expect(aapl.quote).toMatchObject({ T: 'q', S: 'AAPL' });
    expect(typeof aapl.trade!.p).toBe('number');
  });

  it('asks once for symbols requested in the same tick, and never twice for one in flight', async () => {
    const source = new RestSnapshotSource({
      baseUrl: mock.httpUrl,
      feed: 'crypto',
      credentials: MOCK_CREDENTIALS,
    });
    const [a, b, c] = await Promise.all([
      source.fetch(['BTC/USD']),
      source.fetch(['BTC/USD', 'ETH/USD']),
      source.fetch(['ETH/USD']),
    ]);
    expect(source.requests).toBe(1);
    expect(a.get('BTC/USD')).toMatchObject({ trade: { T: 't', S: 'BTC/USD' } });
    expect(b.get('ETH/USD')).toEqual(c.get('ETH/USD'));
    expect(b.get('BTC/USD')).toEqual(a.get('BTC/USD'));
  });

  it('fails with a typed error on a refused request', async () => {
    const source = new RestSnapshotSource({
      baseUrl: mock.httpUrl,
      feed: 'stocks',
      feedName: 'iex',
      credentials: { keyId: 'wrong', secretKey: 'wrong' },
    });
    const error = await source.fetch(['AAPL']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotFetchError);
    expect((error as SnapshotFetchError).code).toBe('WSP_ALPACA_ERR_SNAPSHOT_FETCH');
    expect((error as SnapshotFetchError).status).toBe(401);
  });
});
