// End to end with real processes: the wsproxy daemon (its CLI, loading this package's adapter), three strategy
// processes using AlpacaStream over the daemon's Unix socket and shared-memory ring, and the mock as Alpaca,
// enforcing ONE connection per key. Everything is checked against the mock's own record.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlpacaMock, type MockSession, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plain, until } from './daemon-role.js';
import {
  adapterEntry,
  daemonReady,
  exited,
  expectExactlyItsOwn,
  onlySession as onlyOpenSession,
  type StrategyProcess,
  spawnDaemon,
  spawnStrategy,
} from './e2e-processes.js';

let mock: AlpacaMock;
let runtimeDir: string;
const namespace = `alpaca-e2e-${process.pid}`;
let daemon: ChildProcess | undefined;
const children: ChildProcess[] = [];

async function startDaemon(): Promise<ChildProcess> {
  const child = spawnDaemon([
    ...['--runtime-dir', runtimeDir, '--namespace', namespace, '--adapter', adapterEntry],
    ...['--linger', '60000', '--log-level', 'warn', '--reconnect-initial', '50', '--ring-size', '4194304'],
  ]);
  children.push(child);
  // The daemon is ready when it says so on stdout; the socket file may also simply appear.
  await daemonReady(child);
  return child;
}

function startStrategy(
  set: Record<string, string[]>,
  path = 'v2/iex',
  extraEnv: Record<string, string> = {},
  fixture = 'strategy.mjs',
): StrategyProcess {
  const strategy = spawnStrategy({
    mockUrl: mock.url,
    path,
    runtimeDir,
    namespace,
    set,
    env: extraEnv,
    fixture,
  });
  children.push(strategy.child);
  return strategy;
}

const dataOf = (s: StrategyProcess) =>
  s.lines.filter((l) => 'data' in l).map((l) => l.data as Record<string, unknown>);
const ackOf = (s: StrategyProcess) =>
  s.lines.find((l) => 'ack' in l)?.ack as Record<string, unknown> | undefined;

const onlySession = (endpoint: string): MockSession => onlyOpenSession(mock, endpoint);

beforeAll(async () => {
  mock = await startAlpacaMock({ rate: 25 });
  runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-alpaca-e2e-'));
  daemon = await startDaemon();
});

afterAll(async () => {
  for (const child of children) if (child !== daemon && child.exitCode === null) child.kill('SIGKILL');
  if (daemon && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await Promise.race([exited(daemon), new Promise((r) => setTimeout(r, 5000))]);
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
  }
  await Promise.all(children.map(exited));
  await mock?.close();
  rmSync(runtimeDir, { recursive: true, force: true });
});

describe('three strategy processes through the daemon', { timeout: 60_000 }, () => {
  const strategies: StrategyProcess[] = [];

  it('share ONE upstream session with the minimal subscribe sequence, each getting exactly its own data', async () => {
    const sets: Record<string, string[]>[] = [
      { trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] },
      { trades: ['AAPL', 'TSLA'] },
      { quotes: ['AAPL', 'NVDA'], trades: ['MSFT'] },
    ];
    for (const set of sets) {
      const s = startStrategy(set);
      strategies.push(s);
      await until(() => ackOf(s) !== undefined, 'a strategy ack', 20_000);
    }
    expect(ackOf(strategies[1]!)).toMatchObject({ T: 'subscription', trades: ['AAPL', 'TSLA'], quotes: [] });
    expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(1);
    const upstream = onlySession('v2/iex');
    expect(plain(upstream.received)).toEqual([
      { action: 'auth', key: 'mock-key', secret: 'mock-secret' },
      { action: 'subscribe', trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] },
      { action: 'subscribe', trades: ['TSLA'] },
      { action: 'subscribe', quotes: ['NVDA'] },
    ]);
    await until(() => strategies.every((s) => dataOf(s).length > 40), 'data in every strategy', 20_000);
    const snapshot = strategies.map((s) => dataOf(s).slice());
    const record = plain(upstream.sentData()) as Record<string, unknown>[];
    for (const [k, s] of strategies.entries())
      expectExactlyItsOwn(snapshot[k]!, record, s.set, { oneReplayPerSymbol: true });
  });

  it('a strategy killed with SIGKILL: what nobody else wants is unsubscribed upstream', async () => {
    const upstream = onlySession('v2/iex');
    strategies[2]!.child.kill('SIGKILL');
    await until(() => upstream.received.length >= 5, 'the unsubscribe', 10_000);
    expect(plain(upstream.received[4])).toEqual({ action: 'unsubscribe', quotes: ['NVDA'] });
    await until(() => !upstream.subscriptions().quotes?.includes('NVDA'), 'the ack');
    expect(upstream.subscriptions()).toMatchObject({ trades: ['AAPL', 'MSFT', 'TSLA'], quotes: ['AAPL'] });
  });

  it('upstream dropped by the mock: reconnect, resubscribe the union, strategies notified, data flows again', async () => {
    const alive = strategies.slice(0, 2);
    const before = alive.map((s) => dataOf(s).length);
    const first = onlySession('v2/iex');
    expect(mock.drop({ endpoint: 'v2/iex' })).toBe(1);
    const isNew = () => mock.sessions({ endpoint: 'v2/iex', open: true }).some((s) => s.id !== first.id);
    await until(isNew, 'a new upstream session', 15_000);
    const second = onlySession('v2/iex');
    expect(second.id).not.toBe(first.id);
    await until(() => second.received.length >= 2, 'resubscription', 10_000);
    expect(plain(second.received)).toEqual([
      { action: 'auth', key: 'mock-key', secret: 'mock-secret' },
      { action: 'subscribe', trades: ['AAPL', 'MSFT', 'TSLA'], quotes: ['AAPL'] },
    ]);
    await until(
      () =>
        alive.every(
          (s, k) => s.lines.some((l) => l.event === 'reconnected') && dataOf(s).length > before[k]! + 10,
        ),
      'notification and fresh data',
      15_000,
    );
  });
});

describe('more feeds through the daemon', { timeout: 60_000 }, () => {
  it('a 405 goes only to the strategy that caused it; its set and everyone else stay as they were', async () => {
    const before = onlySession('v2/iex').received.length;
    const greedy = startStrategy({ trades: Array.from({ length: 40 }, (_, k) => `SYM${k}`) });
    await until(() => greedy.lines.some((l) => 'rejected' in l), 'the rejection', 20_000);
    const rejected = greedy.lines.find((l) => 'rejected' in l)!;
    expect(rejected.rejected).toEqual({ code: 'WSP_ERR_SUBSCRIPTION_REJECTED', alpacaCode: 405 });
    // Its set is the daemon's acknowledged state: every channel, all empty.
    expect(rejected.subscriptions).toMatchObject({ trades: [], quotes: [], bars: [] });
    expect(Object.values(rejected.subscriptions as Record<string, string[]>).flat()).toEqual([]);
    const upstream = onlySession('v2/iex');
    expect(upstream.received.length).toBe(before + 1); // the one rejected request, nothing else
    expect(upstream.subscriptions()).toMatchObject({ trades: ['AAPL', 'MSFT', 'TSLA'], quotes: ['AAPL'] });
    greedy.child.kill('SIGTERM');
    await exited(greedy.child);
  });

  it('options in msgpack: two strategies, one `*` on trades, one a single contract', async () => {
    const star = startStrategy({ trades: ['*'] }, 'v1beta1/opra');
    await until(() => ackOf(star) !== undefined, 'ack', 20_000);
    const one = startStrategy({ trades: ['AAPL240315C00172500'] }, 'v1beta1/opra');
    await until(() => ackOf(one) !== undefined, 'ack', 20_000);
    await until(() => dataOf(one).length > 5 && dataOf(star).length > 20, 'option trades', 20_000);
    expect(onlySession('v1beta1/opra').encoding).toBe('msgpack');
    expect(dataOf(one).every((m) => m.T === 't' && m.S === 'AAPL240315C00172500')).toBe(true);
    expect(new Set(dataOf(star).map((m) => m.S)).size).toBeGreaterThan(1);
    for (const s of [star, one]) s.child.kill('SIGTERM');
    await Promise.all([star, one].map((s) => exited(s.child)));
  });

  it('trade_updates: one account session shared, events to every listener', async () => {
    const a = startStrategy({}, 'stream', { LISTEN: JSON.stringify(['trade_updates']) });
    const b = startStrategy({}, 'stream', { LISTEN: JSON.stringify(['trade_updates']) });
    await until(() => ackOf(a) !== undefined && ackOf(b) !== undefined, 'listening', 20_000);
    await until(() => dataOf(a).length > 2 && dataOf(b).length > 2, 'trade updates', 20_000);
    expect(mock.sessionCount({ endpoint: 'stream' })).toBe(1);
    const upstream = onlySession('stream');
    expect(upstream.received.filter((m) => (m as { action?: string }).action === 'listen')).toHaveLength(1);
    // Both processes see the same events, in the same order, from the moment the later one started listening.
    const key = (m: Record<string, unknown>) => JSON.stringify(m);
    let [early, late] = [dataOf(a), dataOf(b)];
    if (early.findIndex((m) => key(m) === key(late[0]!)) < 0) [early, late] = [late, early];
    const offset = early.findIndex((m) => key(m) === key(late[0]!));
    expect(offset).toBeGreaterThanOrEqual(0);
    const overlap = Math.min(late.length, early.length - offset);
    expect(late.slice(0, overlap)).toEqual(early.slice(offset, offset + overlap));
    for (const s of [a, b]) s.child.kill('SIGTERM');
    await Promise.all([a, b].map((s) => exited(s.child)));
  });

  it('a strategy speaking Alpaca protocol itself: its auth answered locally, its own ack, only its data', async () => {
    const before = onlySession('v2/iex').received.length;
    const raw = startStrategy({ quotes: ['MSFT'] }, 'v2/iex', {}, 'raw-strategy.mjs');
    const wrong = startStrategy(
      { quotes: ['TSLA'] },
      'v2/iex',
      { SECRET: 'not-the-owner' },
      'raw-strategy.mjs',
    );
    const controls = (s: StrategyProcess) => s.lines.filter((l) => 'control' in l).map((l) => l.control);
    await until(() => controls(raw).length >= 2 && controls(wrong).length >= 2, 'answers', 20_000);
    expect(controls(raw)).toEqual([
      { T: 'success', msg: 'authenticated' },
      {
        T: 'subscription',
        trades: [],
        quotes: ['MSFT'],
        bars: [],
        updatedBars: [],
        dailyBars: [],
        statuses: [],
        lulds: [],
        corrections: [],
        cancelErrors: [],
        imbalances: [],
      },
    ]);
    expect(controls(wrong)).toEqual([
      { T: 'error', code: 402, msg: 'auth failed' },
      { T: 'error', code: 401, msg: 'not authenticated' },
    ]);
    await until(() => dataOf(raw).length > 5, 'quotes', 20_000);
    expect(dataOf(raw).every((m) => m.T === 'q' && m.S === 'MSFT')).toBe(true);
    expect(dataOf(wrong)).toEqual([]);
    // Neither auth went upstream; only MSFT quotes were new to the union.
    expect(plain(onlySession('v2/iex').received.slice(before))).toEqual([
      { action: 'subscribe', quotes: ['MSFT'] },
    ]);
    for (const s of [raw, wrong]) s.child.kill('SIGTERM');
    await Promise.all([raw, wrong].map((s) => exited(s.child)));
  });
});
