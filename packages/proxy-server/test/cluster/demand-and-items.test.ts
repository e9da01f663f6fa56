// Demand as state and the per-item fan-out, over a real 3-server NATS cluster: each "host" is its own NATS
// connection (as each daemon would have), the holder's union changes only by what changed, a dead host's demand
// expires with its record, and a follower gets exactly the items it subscribed to, byte for byte.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterConnection,
  ClusterUnion,
  connectCluster,
  HostDemand,
  ItemFeed,
  publishItem,
  type UnionChange,
} from '../../src/cluster/index.js';
import { type NatsCluster, natsServerAvailable, startNatsCluster } from '../helpers/nats-cluster.js';

const TTL_MS = 1500;

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!natsServerAvailable())('cluster demand and item fan-out over NATS', () => {
  let cluster: NatsCluster;
  const connections: ClusterConnection[] = [];
  const join = async (server: number) => {
    const connection = await connectCluster({
      servers: [cluster.nodes[server]!.url],
      namespace: 'demandtest',
      leaseTtlMs: TTL_MS,
    });
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    await cluster.ready();
  }, 30_000);

  afterAll(async () => {
    for (const connection of connections) await connection.close().catch(() => undefined);
    await cluster?.stop();
  });

  it("the holder's union is the union of every host's demand, changed only by what changed", async () => {
    const session = randomUUID().replaceAll('-', '');
    const [holder, a, b] = [await join(0), await join(1), await join(2)];
    const changes: UnionChange[] = [];
    const union = new ClusterUnion({ kv: holder.demand, session, ttlMs: TTL_MS }, (change) =>
      changes.push(change),
    );
    await union.start();
    const hostA = new HostDemand({ kv: a.demand, session, daemon: 'a', ttlMs: TTL_MS });
    const hostB = new HostDemand({ kv: b.demand, session, daemon: 'b', ttlMs: TTL_MS });
    await hostA.set(['trades/AAPL', 'trades/MSFT']);
    await hostB.set(['trades/MSFT', 'quotes/TSLA']);
    await waitFor('the union', () => (union.topics().size === 3 ? true : undefined));
    expect([...union.topics()].sort()).toEqual(['quotes/TSLA', 'trades/AAPL', 'trades/MSFT']);
    // MSFT was added once, for whichever host asked first.
    expect(changes.flatMap((c) => c.added).sort()).toEqual(['quotes/TSLA', 'trades/AAPL', 'trades/MSFT']);
    expect(changes.flatMap((c) => c.removed)).toEqual([]);

    // B drops MSFT, which A still wants: the union does not change.
    const before = changes.length;
    await hostB.set(['quotes/TSLA']);
    await hostA.set(['trades/AAPL', 'trades/MSFT']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(changes.slice(before)).toEqual([]);

    // A stops cleanly: its topics nobody else wants leave the union at once (no TTL wait).
    const stoppedAt = Date.now();
    await hostA.stop();
    await waitFor('A gone', () => (union.topics().size === 1 ? true : undefined));
    expect(Date.now() - stoppedAt).toBeLessThan(TTL_MS);
    expect(changes.slice(before)).toEqual([{ added: [], removed: ['trades/AAPL', 'trades/MSFT'] }]);
    expect([...union.topics()]).toEqual(['quotes/TSLA']);
    await hostB.stop();
    union.stop();
  });

  it("a dead host's demand leaves the union within a TTL of its last write", async () => {
    const session = randomUUID().replaceAll('-', '');
    const holder = await join(0);
    const doomed = await join(1);
    const changes: Array<UnionChange & { t: number }> = [];
    const union = new ClusterUnion({ kv: holder.demand, session, ttlMs: TTL_MS }, (change) =>
      changes.push({ ...change, t: Date.now() }),
    );
    await union.start();
    const host = new HostDemand({ kv: doomed.demand, session, daemon: 'doomed', ttlMs: TTL_MS });
    await host.set(['bars/SPY']);
    await waitFor('SPY wanted', () => (union.topics().has('bars/SPY') ? true : undefined));
    // The host's daemon dies: its NATS connection goes and nothing re-writes or deletes its record.
    await doomed.close();
    const diedAt = Date.now();
    const removal = await waitFor(
      'SPY released',
      () => changes.find((c) => c.removed.includes('bars/SPY')),
      TTL_MS * 4,
    );
    // Released no sooner than the TTL allows (the host might only have been slow) and no later than TTL + a sweep.
    expect(removal.t - diedAt).toBeGreaterThanOrEqual(TTL_MS * 0.5);
    expect(removal.t - diedAt).toBeLessThan(TTL_MS * 2.5);
    expect(union.topics().size).toBe(0);
    await host.stop();
    union.stop();
  });

  it('a follower gets exactly the items it wants, bytes unchanged, and none after it stops wanting them', async () => {
    const session = randomUUID().replaceAll('-', '');
    const holder = await join(0);
    const follower = await join(2);
    const received: Array<{ channel: string; symbol: string; data: string }> = [];
    const feed = new ItemFeed(follower.nc, 'demandtest', session, (channel, symbol, data) =>
      received.push({ channel, symbol, data: Buffer.from(data).toString() }),
    );
    feed.want(['trades/AAPL', 'trades/BRK.B', 'quotes/BTC/USD']);
    await follower.nc.flush();
    const item = (symbol: string) => `{"T":"t","S":"${symbol}","p":1.5}`;
    const send = (channel: string, symbol: string) =>
      publishItem(holder.nc, 'demandtest', session, channel, symbol, Buffer.from(item(symbol)));
    send('trades', 'AAPL');
    send('trades', 'MSFT'); // nobody wants it
    send('trades', 'BRK.B'); // a dot in the symbol must not split the subject
    send('quotes', 'BTC/USD');
    send('trades', 'BTC/USD'); // wanted on another channel only
    await holder.nc.flush();
    await waitFor('three items', () => (received.length >= 3 ? true : undefined));
    await follower.nc.flush();
    expect(received).toEqual([
      { channel: 'trades', symbol: 'AAPL', data: item('AAPL') },
      { channel: 'trades', symbol: 'BRK.B', data: item('BRK.B') },
      { channel: 'quotes', symbol: 'BTC/USD', data: item('BTC/USD') },
    ]);

    // Alpaca's `*` becomes the NATS wildcard; AAPL dropped: no more AAPL items except through `*`.
    feed.want(['trades/*']);
    expect([...feed.topics()]).toEqual(['trades/*']);
    await follower.nc.flush();
    received.length = 0;
    send('trades', 'MSFT');
    send('quotes', 'BTC/USD');
    await holder.nc.flush();
    await waitFor('one item', () => (received.length >= 1 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toEqual([{ channel: 'trades', symbol: 'MSFT', data: item('MSFT') }]);
    feed.stop();
  });
});
