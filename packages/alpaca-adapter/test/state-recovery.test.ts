// Subscriptions are state, not a log: after the daemon is SIGKILLed, what the process sees (`stream.subscriptions`),
// what the respawned daemon holds for it (`wsproxy status`) and what the upstream holds (the mock's record) are the
// same set — the one the last acknowledgement listed. Real daemon (spawned by the client), real mock, real SIGKILL.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { connect, type WsproxyClient } from '@wsproxy/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// The built package, as a strategy runs it: its streams name the daemon entry they were built with (dist/daemon.js,
// the `adapterEntry` the daemon is started with). From src they would name the package specifier, which the daemon
// cannot match to the build it runs and so refuses (WSP_ERR_ADAPTER_MISMATCH).
import { AlpacaAccountStream, AlpacaRejectedError, AlpacaStream, type StockTrade } from '../dist/index.js';
import { until } from './daemon-role.js';
import { adapterEntry } from './e2e-processes.js';

const CREDENTIALS = { keyId: 'mock-key', secretKey: 'mock-secret' };

let mock: AlpacaMock;
let runtimeDir: string;
let namespace: string;
const clients: WsproxyClient[] = [];
let counter = 0;

beforeEach(async () => {
  runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-state-'));
  namespace = `state-${process.pid}-${++counter}`;
});

afterEach(async () => {
  const pids = new Set(clients.map((client) => (client.state === 'closed' ? 0 : client.daemonPid)));
  for (const client of clients.splice(0)) await client.close();
  // The client-spawned daemon lingers; stop it now so its ring and socket go with it.
  for (const pid of pids) if (pid > 0) killQuietly(pid, 'SIGTERM');
  await until(() => [...pids].every((pid) => pid === 0 || !alive(pid)), 'daemon gone', 10_000);
  await mock?.close();
  rmSync(runtimeDir, { recursive: true, force: true });
  expect(readdirSync('/dev/shm').filter((name) => name.includes(namespace))).toEqual([]);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

async function strategy(): Promise<{ client: WsproxyClient; stream: AlpacaStream }> {
  const client = await connect({
    runtimeDir,
    namespace,
    daemonArgs: ['--linger', '500', '--adapter', adapterEntry],
  });
  clients.push(client);
  const stream = await AlpacaStream.connect({
    client,
    url: `${mock.url}/v2/iex`,
    credentials: CREDENTIALS,
    encoding: 'json',
  });
  return { client, stream };
}

/** The mock's one open session on the IEX endpoint (the upstream's view). */
function upstreamTrades(): string[] {
  const open = mock.sessions({ endpoint: 'v2/iex', open: true });
  expect(open).toHaveLength(1);
  return [...(open[0]!.subscriptions().trades ?? [])].sort();
}

/** The daemon's per-client acknowledged set, as `wsproxy status` shows it. */
async function daemonTrades(client: WsproxyClient): Promise<string[]> {
  const status = await client.status();
  const upstream = status.upstreams.find((u) => u.adapter === 'alpaca');
  const sets = upstream?.subscriptions as Record<string, Record<string, string[]>> | undefined;
  return [...(sets?.[String(client.clientId)]?.trades ?? [])].sort();
}

async function killDaemonAndRecover(client: WsproxyClient): Promise<void> {
  const oldPid = client.daemonPid;
  const recovered = new Promise<void>((resolve) => client.once('reconnected', () => resolve()));
  process.kill(oldPid, 'SIGKILL');
  await recovered;
  expect(client.daemonPid).not.toBe(oldPid);
}

describe('daemon SIGKILL: subscriptions come back as the acknowledged state', { timeout: 60_000 }, () => {
  beforeEach(async () => {
    mock = await startAlpacaMock({ rate: 50, symbolLimit: 3 });
  });

  it('an unsubscribed symbol stays unsubscribed: process, daemon and upstream all say MSFT', async () => {
    const { client, stream } = await strategy();
    await stream.subscribe({ trades: ['AAPL', 'MSFT'] });
    const ack = await stream.unsubscribe({ trades: ['AAPL'] });
    expect(ack.trades).toEqual(['MSFT']);

    await killDaemonAndRecover(client);

    await until(() => mock.sessions({ endpoint: 'v2/iex', open: true }).length === 1, 'the new upstream');
    await until(() => upstreamTrades().length > 0, 'the upstream resubscribed');
    expect(upstreamTrades()).toEqual(['MSFT']);
    expect(stream.subscriptions.trades).toEqual(['MSFT']);
    expect(await daemonTrades(client)).toEqual(['MSFT']);

    // And the data that flows is MSFT's only.
    const symbols = new Set<string>();
    stream.on('trade', (trade) => symbols.add((trade as StockTrade).S));
    await until(() => symbols.size > 0, 'trades after recovery', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...symbols]).toEqual(['MSFT']);
  });

  it('a subscribe the upstream rejected (405) is not part of the state, and is not sent again', async () => {
    const { client, stream } = await strategy();
    await stream.subscribe({ trades: ['AAPL', 'MSFT'] });
    await expect(stream.subscribe({ trades: ['TSLA', 'NVDA'] })).rejects.toBeInstanceOf(AlpacaRejectedError);
    expect(stream.subscriptions.trades).toEqual(['AAPL', 'MSFT']);

    await killDaemonAndRecover(client);

    await until(() => mock.sessions({ endpoint: 'v2/iex', open: true }).length === 1, 'the new upstream');
    await until(() => upstreamTrades().length > 0, 'the upstream resubscribed');
    const session = mock.sessions({ endpoint: 'v2/iex', open: true })[0]!;
    expect(JSON.stringify(session.received)).not.toContain('TSLA');
    expect(upstreamTrades()).toEqual(['AAPL', 'MSFT']);
    expect(stream.subscriptions.trades).toEqual(['AAPL', 'MSFT']);
    expect(await daemonTrades(client)).toEqual(['AAPL', 'MSFT']);
  });

  it('two processes: each gets back its own set, and the upstream holds exactly their union', async () => {
    const a = await strategy();
    const b = await strategy();
    await a.stream.subscribe({ trades: ['AAPL', 'MSFT'] });
    await b.stream.subscribe({ trades: ['MSFT'] });
    await a.stream.unsubscribe({ trades: ['MSFT'] });
    expect(a.client.daemonPid).toBe(b.client.daemonPid);

    const bRecovered = new Promise<void>((resolve) => b.client.once('reconnected', () => resolve()));
    await killDaemonAndRecover(a.client);
    await bRecovered;

    await until(() => mock.sessions({ endpoint: 'v2/iex', open: true }).length === 1, 'the new upstream');
    await until(() => upstreamTrades().length === 2, 'the union resubscribed');
    expect(upstreamTrades()).toEqual(['AAPL', 'MSFT']);
    // The trades A receives are AAPL's only (before the fix, A's logged subscribe of MSFT came back).
    const symbols = new Set<string>();
    a.stream.on('trade', (trade) => symbols.add((trade as StockTrade).S));
    await until(() => symbols.size > 0, 'trades after recovery', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([...symbols]).toEqual(['AAPL']);
    expect(a.stream.subscriptions.trades).toEqual(['AAPL']);
    expect(b.stream.subscriptions.trades).toEqual(['MSFT']);
    expect(await daemonTrades(a.client)).toEqual(['AAPL']);
    expect(await daemonTrades(b.client)).toEqual(['MSFT']);
  });

  it('upstream drop: the new upstream session gets the union of the acknowledged sets, nothing unsubscribed', async () => {
    const a = await strategy();
    const b = await strategy();
    await a.stream.subscribe({ trades: ['AAPL', 'MSFT'] });
    await b.stream.subscribe({ trades: ['TSLA'] });
    await a.stream.unsubscribe({ trades: ['AAPL'] });
    const first = mock.sessions({ endpoint: 'v2/iex', open: true })[0]!;
    const reconnected = Promise.all(
      [a, b].map(({ stream }) => new Promise<void>((resolve) => stream.once('reconnected', () => resolve()))),
    );
    expect(mock.drop({ endpoint: 'v2/iex' })).toBe(1);
    await reconnected;
    await until(
      () => mock.sessions({ endpoint: 'v2/iex', open: true }).some((s) => s.id !== first.id),
      'the new upstream session',
    );
    await until(() => upstreamTrades().length === 2, 'the union resubscribed', 10_000);
    expect(upstreamTrades()).toEqual(['MSFT', 'TSLA']);
    expect(a.stream.subscriptions.trades).toEqual(['MSFT']);
    expect(b.stream.subscriptions.trades).toEqual(['TSLA']);
    expect(await daemonTrades(a.client)).toEqual(['MSFT']);
    expect(await daemonTrades(b.client)).toEqual(['TSLA']);
  });

  it('the account stream: its listen set comes back as state after a daemon SIGKILL', async () => {
    const client = await connect({
      runtimeDir,
      namespace,
      daemonArgs: ['--linger', '500', '--adapter', adapterEntry],
    });
    clients.push(client);
    const account = await AlpacaAccountStream.connect({
      client,
      url: `${mock.url}/stream`,
      credentials: CREDENTIALS,
    });
    expect(await account.listen(['trade_updates'])).toEqual(['trade_updates']);

    await killDaemonAndRecover(client);

    await until(
      () => mock.sessions({ endpoint: 'stream', open: true }).length === 1,
      'the new account session',
    );
    const session = mock.sessions({ endpoint: 'stream', open: true })[0]!;
    await until(() => (session.subscriptions().streams ?? []).length > 0, 'the listen restored', 10_000);
    expect(session.subscriptions().streams).toEqual(['trade_updates']);
    expect(account.listening).toEqual(['trade_updates']);
    const status = await client.status();
    const upstream = status.upstreams.find((u) => u.url.endsWith('/stream'));
    expect(upstream?.subscriptions).toEqual({ [String(client.clientId)]: { streams: ['trade_updates'] } });
  });
});
