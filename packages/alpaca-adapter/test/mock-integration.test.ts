// The AlpacaSession against the REAL mock over a real WebSocket: the test plays the daemon (one upstream socket,
// several clients as sinks) and checks every claim against the mock's own record of what it sent and received.
import { type AlpacaMock, type MockSession, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { type AlpacaSession, RestSnapshotSource } from '../src/index.js';
import { DaemonRole, MOCK_CREDENTIALS, plain, until } from './daemon-role.js';

let mock: AlpacaMock | undefined;
const roles: DaemonRole[] = [];

afterEach(async () => {
  for (const role of roles.splice(0)) await role.close();
  await mock?.close();
  mock = undefined;
});

async function setup(path: string, options: ConstructorParameters<typeof DaemonRole>[1], mockOptions = {}) {
  mock = await startAlpacaMock({ rate: 20, ...mockOptions });
  const role = new DaemonRole(`${mock.url}/${path}`, options);
  roles.push(role);
  await role.connect();
  return { mock, role };
}

type Sets = Record<string, string[]>;

function wants(set: Sets, m: Record<string, unknown>): boolean {
  const channel = { t: 'trades', q: 'quotes', b: 'bars', c: 'trades', x: 'trades', o: 'orderbooks' }[
    m.T as string
  ];
  const list = channel ? set[channel] : undefined;
  return !!list && (list.includes('*') || list.includes(m.S as string));
}

function acked(role: DaemonRole, id: number): number {
  return role.messages(id).filter((m) => m.T === 'subscription').length;
}

function upstreamSession(m: AlpacaMock, endpoint: string): MockSession {
  const open = m.sessions({ endpoint, open: true });
  expect(open).toHaveLength(1);
  return open[0]!;
}

describe('AlpacaSession against the mock (stocks, msgpack)', () => {
  it('one upstream session; each client gets exactly its own data; minimal upstream traffic; dead client released', async () => {
    const { mock, role } = await setup('v2/iex', { feed: 'stocks', encoding: 'msgpack' });
    const sets: Record<number, Sets> = {
      1: { trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] },
      2: { trades: ['AAPL', 'TSLA'] },
      3: { quotes: ['AAPL', 'NVDA'], trades: ['MSFT'] },
    };
    for (const id of [1, 2, 3]) role.attach(id);
    for (const id of [1, 2, 3]) role.send(id, { action: 'subscribe', ...sets[id] });
    await until(() => [1, 2, 3].every((id) => acked(role, id) === 1), 'three acks');

    // Each ack lists that client's own set, in Alpaca's stock shape.
    expect(role.messages(2).find((m) => m.T === 'subscription')).toEqual({
      T: 'subscription',
      trades: ['AAPL', 'TSLA'],
      quotes: [],
      bars: [],
      updatedBars: [],
      dailyBars: [],
      statuses: [],
      lulds: [],
      corrections: ['AAPL', 'TSLA'],
      cancelErrors: ['AAPL', 'TSLA'],
      imbalances: [],
    });

    const upstream = upstreamSession(mock, 'v2/iex');
    // Only changes to the union went upstream, one at a time.
    expect(plain(upstream.received)).toEqual([
      { action: 'auth', key: 'mock-key', secret: 'mock-secret' },
      { action: 'subscribe', trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] },
      { action: 'subscribe', trades: ['TSLA'] },
      { action: 'subscribe', quotes: ['NVDA'] },
    ]);
    expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(1);

    // Let data flow, then compare each client's data with the mock's record.
    const from = role.upstreamData.length;
    const starts = new Map([1, 2, 3].map((id) => [id, role.dataOf(id).length]));
    await until(() => role.upstreamData.length - from >= 60, 'upstream data');
    const sent = plain(upstream.sentData()) as Record<string, unknown>[];
    const seen = plain(role.upstreamData) as Record<string, unknown>[];
    expect(sent.slice(0, seen.length)).toEqual(seen); // the session saw exactly what the mock sent
    for (const id of [1, 2, 3]) {
      const expected = seen.slice(from).filter((m) => wants(sets[id]!, m));
      const got = plain(role.dataOf(id).slice(starts.get(id))) as Record<string, unknown>[];
      expect(got).toEqual(expected);
      expect(got.length).toBeGreaterThan(0);
    }

    // Client 2 dies: TSLA (only it wanted) goes; AAPL trades stay for client 1.
    (role.session as AlpacaSession).onClientGone(2);
    await until(() => upstream.received.length === 5, 'the release unsubscribe');
    expect(plain(upstream.received[4])).toEqual({ action: 'unsubscribe', trades: ['TSLA'] });
    await until(() => !(role.session as AlpacaSession).book.busy, 'the ack');
    expect(upstream.subscriptions()).toMatchObject({ trades: ['AAPL', 'MSFT'], quotes: ['AAPL', 'NVDA'] });
  });

  it('attributes a 405 to the client that caused it; the others keep their data', async () => {
    const { mock, role } = await setup('v2/iex', { feed: 'stocks', encoding: 'json' }, { symbolLimit: 3 });
    role.attach(1);
    role.attach(2);
    role.send(1, { action: 'subscribe', trades: ['AAPL', 'MSFT'] });
    await until(() => acked(role, 1) === 1, 'ack 1');
    role.send(2, { action: 'subscribe', quotes: ['TSLA', 'NVDA'] });
    await until(() => role.messages(2).length > 0, 'answer to 2');
    expect(role.messages(2)).toEqual([{ T: 'error', code: 405, msg: 'symbol limit exceeded' }]);
    expect(role.messages(1).filter((m) => m.T === 'error')).toEqual([]);
    expect([...(role.session as AlpacaSession).subscriptionsOf(2)]).toEqual([]);
    // Client 2 can still subscribe within the limit.
    role.send(2, { action: 'subscribe', trades: ['AAPL'], quotes: ['AMD'] });
    await until(() => acked(role, 2) === 1, 'ack 2');
    expect(upstreamSession(mock, 'v2/iex').subscriptions()).toMatchObject({
      trades: ['AAPL', 'MSFT'],
      quotes: ['AMD'],
    });
    await until(() => role.dataOf(1).length > 0 && role.dataOf(2).length > 0, 'data for both');
  });

  it('upstream drop: reconnects, resubscribes the union, data flows again', async () => {
    const { mock, role } = await setup('v2/iex', { feed: 'stocks', encoding: 'msgpack' });
    role.attach(1);
    role.attach(2);
    role.send(1, { action: 'subscribe', trades: ['AAPL'] });
    role.send(2, { action: 'subscribe', quotes: ['MSFT'], bars: ['*'] });
    await until(() => acked(role, 1) === 1 && acked(role, 2) === 1, 'acks');
    expect(mock.drop({ endpoint: 'v2/iex' })).toBe(1);
    await until(() => role.events.some((e) => e.type === 'resubscribed'), 'resubscribed');
    const second = upstreamSession(mock, 'v2/iex');
    expect(plain(second.received)).toEqual([
      { action: 'auth', key: 'mock-key', secret: 'mock-secret' },
      { action: 'subscribe', trades: ['AAPL'], quotes: ['MSFT'], bars: ['*'] },
    ]);
    expect(role.connections).toBe(2);
    const before1 = role.dataOf(1).length;
    const before2 = role.dataOf(2).length;
    await until(
      () => role.dataOf(1).length > before1 && role.dataOf(2).length > before2,
      'data after reconnect',
    );
    expect(role.dataOf(1).every((m) => m.T === 't' || m.T === 'c' || m.T === 'x')).toBe(true);
  });

  it('after an abrupt drop, rides out 406 (the dead session still holds the slot) until Alpaca lets it back in', async () => {
    const { mock, role } = await setup(
      'v2/iex',
      { feed: 'stocks', encoding: 'json' },
      { halfDeadMs: 600, authTimeoutMs: 150 },
    );
    role.attach(1);
    role.send(1, { action: 'subscribe', trades: ['AAPL'] });
    await until(() => acked(role, 1) === 1, 'ack');
    mock.drop({ endpoint: 'v2/iex' });
    await until(() => role.events.some((e) => e.type === 'resubscribed'), 'resubscribed', 10_000);
    const refused = role.events.filter((e) => e.type === 'upstream-error');
    expect(refused.length).toBeGreaterThan(0);
    // Each attempt: 406 in reply to auth, then 404 when Alpaca's auth timer closes the socket; then a retry.
    const codes = refused.map((e) => (e.type === 'upstream-error' ? e.error.alpacaCode : 0));
    expect(codes).toContain(406);
    expect(new Set(codes)).toEqual(new Set([406, 404]));
    // The client was never told about the refusals: it only sees data flowing again.
    expect(role.messages(1).filter((m) => m.T === 'error')).toEqual([]);
    const before = role.dataOf(1).length;
    await until(() => role.dataOf(1).length > before, 'data after the slot came free');
  });

  it('snapshot: true delivers REST state from the mock before live data, one request for concurrent clients', async () => {
    mock = await startAlpacaMock({ rate: 20 });
    const snapshots = new RestSnapshotSource({
      baseUrl: mock.httpUrl,
      feed: 'stocks',
      feedName: 'iex',
      credentials: MOCK_CREDENTIALS,
    });
    const role = new DaemonRole(`${mock.url}/v2/iex`, { feed: 'stocks', encoding: 'json', snapshots });
    roles.push(role);
    await role.connect();
    role.attach(1);
    role.attach(2);
    role.send(1, { action: 'subscribe', trades: ['AAPL'], quotes: ['AAPL'], snapshot: true });
    role.send(2, { action: 'subscribe', trades: ['AAPL', 'MSFT'], snapshot: true });
    await until(() => role.dataOf(1).length >= 3 && role.dataOf(2).length >= 3, 'snapshots and data');
    const first1 = role.dataOf(1).slice(0, 2);
    expect(first1.map((m) => m.T).sort()).toEqual(['q', 't']);
    expect(first1.every((m) => m.S === 'AAPL')).toBe(true);
    const first2 = role.dataOf(2).slice(0, 2);
    expect(first2.map((m) => `${m.T}:${m.S}`).sort()).toEqual(['t:AAPL', 't:MSFT']);
    expect(snapshots.requests).toBeLessThanOrEqual(2);
  });
});

describe('AlpacaSession against the mock (crypto, news, options)', () => {
  it('gives a late joiner a synthetic r:true order-book snapshot equal to the book so far', async () => {
    const { role } = await setup('v1beta3/crypto/us', { feed: 'crypto', encoding: 'msgpack' });
    role.attach(1);
    role.send(1, { action: 'subscribe', orderbooks: ['BTC/USD'] });
    await until(() => role.dataOf(1).filter((m) => m.T === 'o').length >= 5, 'order-book updates');
    role.attach(2);
    role.send(2, { action: 'subscribe', orderbooks: ['BTC/USD'] });
    // Rebuild the book from what client 1 received, up to the moment client 2 joined.
    const seen = role.dataOf(1).filter((m) => m.T === 'o');
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    for (const m of seen) {
      if (m.r) {
        bids.clear();
        asks.clear();
      }
      for (const l of m.b as { p: number; s: number }[]) l.s === 0 ? bids.delete(l.p) : bids.set(l.p, l.s);
      for (const l of m.a as { p: number; s: number }[]) l.s === 0 ? asks.delete(l.p) : asks.set(l.p, l.s);
    }
    const snap = role.dataOf(2)[0]!;
    expect(snap).toMatchObject({ T: 'o', S: 'BTC/USD', r: true });
    expect(snap.b).toEqual([...bids].sort((x, y) => y[0] - x[0]).map(([p, s]) => ({ p, s })));
    expect(snap.a).toEqual([...asks].sort((x, y) => x[0] - y[0]).map(([p, s]) => ({ p, s })));
    expect(plain(snap.t)).toEqual(plain(seen.at(-1)!.t));
  });

  it('routes news by symbols[] and `*`', async () => {
    const { mock, role } = await setup(
      'v1beta1/news',
      { feed: 'news', encoding: 'json' },
      { newsEveryTicks: 1 },
    );
    role.attach(1);
    role.attach(2);
    role.send(1, { action: 'subscribe', news: ['*'] });
    role.send(2, { action: 'subscribe', news: ['AAPL'] });
    await until(() => role.dataOf(1).length >= 10 && role.dataOf(2).length >= 2, 'news', 10_000);
    const upstream = upstreamSession(mock, 'v1beta1/news');
    const got = plain(role.dataOf(2)) as unknown[]; // taken first: client 1's list is then at least as far
    const all = role.dataOf(1);
    const aapl = all.filter((m) => (m.symbols as string[]).includes('AAPL'));
    // Client 2 joined a moment after client 1: from its first item on, it saw exactly client 1's AAPL news.
    const from = (plain(aapl) as unknown[]).findIndex((m) => JSON.stringify(m) === JSON.stringify(got[0]));
    expect(from).toBeGreaterThanOrEqual(0);
    const overlap = Math.min(got.length, aapl.length - from);
    expect(overlap).toBeGreaterThan(0);
    expect(got.slice(0, overlap)).toEqual(plain(aapl.slice(from, from + overlap)));
    expect(role.dataOf(2).every((m) => (m.symbols as string[]).includes('AAPL'))).toBe(true);
    expect(upstream.sentData().length).toBeGreaterThanOrEqual(all.length);
  });

  it('options in msgpack: a JSON client is refused with 412, msgpack clients are served', async () => {
    const { role } = await setup('v1beta1/opra', { feed: 'options', encoding: 'msgpack' });
    role.attach(1);
    role.send(1, { action: 'subscribe', trades: ['AAPL240315C00172500'] });
    expect(role.messages(1)).toEqual([
      { T: 'error', code: 412, msg: 'option messages are only available in MsgPack format' },
    ]);
    const { encode } = await import('@msgpack/msgpack');
    role.session.onClientMessage(1, encode({ action: 'subscribe', quotes: ['AAPL240315C00172500'] }), true);
    await until(() => role.dataOf(1).length > 0, 'option quotes');
    expect(role.dataOf(1).every((m) => m.T === 'q' && m.S === 'AAPL240315C00172500')).toBe(true);
  });
});

describe('AccountSession against the mock', () => {
  it('shares one trade_updates session; listen sets merge; events go to listeners only', async () => {
    const { mock, role } = await setup('stream', { feed: 'account' }, { tradeUpdateEveryTicks: 1 });
    role.attach(1);
    role.attach(2);
    role.attach(3);
    role.send(1, { action: 'auth', key: 'mock-key', secret: 'mock-secret' });
    role.send(3, { action: 'authenticate', data: { key_id: 'mock-key', secret_key: 'nope' } });
    role.send(1, { action: 'listen', data: { streams: ['trade_updates'] } });
    role.send(2, { action: 'listen', data: { streams: ['trade_updates'] } });
    await until(() => role.messages(1).length >= 4 && role.messages(2).length >= 3, 'events');
    expect(role.messages(3)).toEqual([
      { stream: 'authorization', data: { status: 'unauthorized', action: 'authenticate' } },
    ]);
    expect(role.messages(1).slice(0, 2)).toEqual([
      { stream: 'authorization', data: { status: 'authorized', action: 'authenticate' } },
      { stream: 'listening', data: { streams: ['trade_updates'] } },
    ]);
    const upstream = upstreamSession(mock, 'stream');
    // One listen upstream although two clients listen.
    expect(upstream.received.filter((m) => (m as { action: string }).action === 'listen')).toHaveLength(1);
    // Client 2 stops listening; client 1 keeps the stream alive upstream.
    role.send(2, { action: 'listen', data: { streams: [] } });
    const events1 = role.messages(1).filter((m) => m.stream === 'trade_updates').length;
    const events2 = role.messages(2).filter((m) => m.stream === 'trade_updates').length;
    await until(
      () => role.messages(1).filter((m) => m.stream === 'trade_updates').length > events1 + 2,
      'more events',
    );
    expect(role.messages(2).filter((m) => m.stream === 'trade_updates').length).toBe(events2);
    expect(upstream.received.filter((m) => (m as { action: string }).action === 'listen')).toHaveLength(1);
    expect(mock.sessionCount({ endpoint: 'stream' })).toBe(1);
  });
});
