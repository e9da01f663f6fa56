// Issue 14, items 2, 3 and 8, end to end with real processes: the wsproxy daemon (its CLI with this package's
// adapter), a strategy process on AlpacaStream, and the mock as Alpaca refusing what the real service refuses: a
// re-authentication answered 406 while it still holds the dropped session (or 402), an upgrade answered 429, an
// upstream that stops answering pings. After each fault: what the strategy heard (typed, with Alpaca's code), what
// `wsproxy status` said meanwhile, what the mock holds afterwards, and how long data took to flow again.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { DaemonErrorCode, type UpstreamStatus } from '@wsproxy/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plain, until } from './daemon-role.js';
import {
  adapterEntry,
  daemonReady,
  exited,
  type Line,
  type StrategyProcess,
  spawnDaemon,
  spawnStrategy,
  stopChild,
  upstreamStatusOf,
} from './e2e-processes.js';

const HALF_DEAD_MS = 3_000;
let mock: AlpacaMock;
let runtimeDir: string;
const namespace = `alpaca-faults-${process.pid}`;
let daemon: ChildProcess;
let strategy: StrategyProcess;
const children: ChildProcess[] = [];

async function startDaemon(): Promise<ChildProcess> {
  const child = spawnDaemon([
    ...['--runtime-dir', runtimeDir, '--namespace', namespace, '--adapter', adapterEntry],
    ...['--linger', '60000', '--log-level', 'info', '--ring-size', '4194304'],
    ...[
      '--reconnect-initial',
      '100',
      '--reconnect-max',
      '800',
      '--ping-interval',
      '400',
      '--pong-timeout',
      '400',
    ],
  ]);
  children.push(child);
  await daemonReady(child);
  return child;
}

const upstreamStatus = () => upstreamStatusOf({ runtimeDir, namespace }, 'v2/iex');

const dataCount = (s: StrategyProcess) => s.lines.filter((l) => 'data' in l).length;
const errorsOf = (s: StrategyProcess, from: number) =>
  s.lines.slice(from).flatMap((l) => ('error' in l ? [l.error as Record<string, unknown>] : []));

/**
 * Injects a fault, then waits for the strategy to hear `reconnected` and to receive fresh data. Returns the lines
 * printed since the fault and the time from the fault to the first fresh data item.
 */
async function recoverFrom(
  fault: () => void,
  timeoutMs = 20_000,
): Promise<{ lines: Line[]; recoveryMs: number }> {
  const from = strategy.lines.length;
  const started = Date.now();
  fault();
  await until(
    () => strategy.lines.slice(from).some((l) => l.event === 'reconnected'),
    'the strategy to hear reconnected',
    timeoutMs,
  );
  const at = strategy.lines.length;
  const before = dataCount(strategy);
  await until(() => dataCount(strategy) > before, 'fresh data', 10_000);
  // Data after `reconnected` proves the flow is back; time it from the fault.
  const recoveryMs = Date.now() - started;
  expect(strategy.lines.slice(at).some((l) => 'data' in l)).toBe(true);
  return { lines: strategy.lines.slice(from), recoveryMs };
}

/** After recovery the mock holds exactly one authenticated session, subscribed to the strategy's set again. */
async function expectOneSubscribedSession(): Promise<void> {
  await until(
    () => mock.sessions({ endpoint: 'v2/iex', open: true, authenticated: true }).length === 1,
    'one session',
  );
  const [session] = mock.sessions({ endpoint: 'v2/iex', open: true, authenticated: true });
  await until(() => (session!.subscriptions().trades ?? []).includes('AAPL'), 'the resubscription');
  expect(plain(session!.subscriptions())).toMatchObject({ trades: ['AAPL'] });
  expect(mock.sessions({ endpoint: 'v2/iex', open: true })).toHaveLength(1);
}

beforeAll(async () => {
  mock = await startAlpacaMock({ rate: 20, halfDeadMs: HALF_DEAD_MS });
  runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-alpaca-faults-'));
  daemon = await startDaemon();
  strategy = spawnStrategy({
    mockUrl: mock.url,
    path: 'v2/iex',
    runtimeDir,
    namespace,
    set: { trades: ['AAPL'] },
  });
  children.push(strategy.child);
  await until(() => strategy.lines.some((l) => 'ack' in l), 'the ack', 20_000);
  await until(() => dataCount(strategy) > 5, 'data', 10_000);
});

afterAll(async () => {
  for (const child of children) if (child !== daemon) child.kill('SIGKILL');
  if (daemon) await stopChild(daemon);
  await Promise.all(children.map(exited));
  await mock?.close();
  rmSync(runtimeDir, { recursive: true, force: true });
});

describe('a refused or half-dead upstream: the daemon keeps redialling and every strategy hears why', {
  timeout: 60_000,
}, () => {
  it('406 on re-auth while Alpaca holds the dropped session: redial with backoff until let in; status says so', async () => {
    let seen: UpstreamStatus | undefined;
    const watching = (async () => {
      // Poll status during the outage: the daemon must not claim the upstream is open.
      const deadline = Date.now() + 15_000;
      while (!seen && Date.now() < deadline) {
        const status = await upstreamStatus();
        if (status?.lastError?.vendorCode === 406) seen = status;
      }
    })();
    const { lines, recoveryMs } = await recoverFrom(() => expect(mock.drop({ endpoint: 'v2/iex' })).toBe(1));
    await watching;
    expect(seen, 'status during the outage').toBeDefined();
    expect(seen!.state).not.toBe('open');
    expect(seen!.lastError).toMatchObject({ code: DaemonErrorCode.UPSTREAM_LIMIT, vendorCode: 406 });
    if (seen!.state === 'reconnecting') expect(seen!.nextRetryAt).toBeGreaterThan(0);
    expect(seen!.attempt ?? 1).toBeGreaterThanOrEqual(1);
    const refusals = errorsOf({ ...strategy, lines }, 0);
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    for (const e of refusals)
      expect(e).toMatchObject({
        name: 'UpstreamLimitError',
        code: DaemonErrorCode.UPSTREAM_LIMIT,
        vendorCode: 406,
      });
    // Not let in before Alpaca forgot the dead session; not much later either (backoff capped at 800 ms here).
    expect(recoveryMs).toBeGreaterThanOrEqual(HALF_DEAD_MS - 200);
    expect(recoveryMs).toBeLessThan(HALF_DEAD_MS + 5_000);
    console.info(
      `406 after a drop (Alpaca holding the session ${HALF_DEAD_MS} ms): data again after ${recoveryMs} ms`,
    );
    await expectOneSubscribedSession();
    expect((await upstreamStatus())?.state).toBe('open');
    expect((await upstreamStatus())?.lastError).toBeUndefined();
  });

  it('402 on re-auth: typed AUTH_FAILED with Alpaca code 402 each time, and the daemon keeps trying', async () => {
    const { lines, recoveryMs } = await recoverFrom(() => {
      mock.refuseAuth(402, 2);
      void mock.restart();
    });
    const refusals = errorsOf({ ...strategy, lines }, 0);
    expect(refusals.filter((e) => e.vendorCode === 402)).toHaveLength(2);
    for (const e of refusals.filter((e) => e.vendorCode === 402))
      expect(e).toMatchObject({ name: 'AuthFailedError', code: DaemonErrorCode.AUTH_FAILED });
    console.info(`402 twice on re-auth after a restart: data again after ${recoveryMs} ms`);
    await expectOneSubscribedSession();
  });

  it('429 on the redial: said as RATE_LIMITED (429) in events and the log, Retry-After honoured', async () => {
    const { lines, recoveryMs } = await recoverFrom(() => {
      mock.rateLimitUpgrades(1, { retryAfterSeconds: 1 });
      void mock.restart();
    });
    const limited = errorsOf({ ...strategy, lines }, 0).filter((e) => e.vendorCode === 429);
    expect(limited).toHaveLength(1);
    expect(limited[0]).toMatchObject({ name: 'RateLimitedError', code: DaemonErrorCode.RATE_LIMITED });
    expect(String(limited[0]!.message)).toMatch(/rate limited/);
    // The retry after the 429 waited at least the Retry-After second.
    const retries = lines.filter((l) => l.event === 'reconnecting').map((l) => l.info as { delayMs: number });
    expect(retries.some((r) => r.delayMs >= 1_000)).toBe(true);
    expect(recoveryMs).toBeGreaterThanOrEqual(1_000);
    const log = readFileSync(join(runtimeDir, `${namespace}.log`), 'utf8');
    expect(log).toMatch(/rate limited/);
    expect(log).not.toMatch(/closed before the connection was established/);
    await expectOneSubscribedSession();
  });

  it('an upstream that stops answering pings is redialled, and its 406 outlasted, until data flows again', async () => {
    const stalled = mock.sessions({ endpoint: 'v2/iex', open: true, authenticated: true })[0]!;
    const { lines, recoveryMs } = await recoverFrom(() => {
      expect(mock.stall({ id: stalled.id })).toBe(1);
      // Alpaca notices the dead TCP connection only later: here once the daemon has met a 406 for it.
      void mock
        .waitFor(() => mock.connectionCount({ endpoint: 'v2/iex' }) > 1, 10_000)
        .then(() => mock.waitFor(() => mock.sessions({ endpoint: 'v2/iex' }).length > stalled.id, 10_000))
        .then(() => new Promise((r) => setTimeout(r, 300)))
        .then(() => mock.drop({ id: stalled.id }));
    }, 30_000);
    const heard = errorsOf({ ...strategy, lines }, 0);
    expect(heard.some((e) => e.code === DaemonErrorCode.TIMEOUT && /no pong/.test(String(e.message)))).toBe(
      true,
    );
    console.info(`half-dead upstream (ping 400 ms, pong timeout 400 ms): data again after ${recoveryMs} ms`);
    await expectOneSubscribedSession();
  });

  it('subscription parameters the adapter cannot read: BAD_PARAMS to that socket only', async () => {
    const { connect } = await import('@wsproxy/client');
    const client = await connect({ runtimeDir, namespace, spawn: false });
    try {
      const socket = await client.open(`${mock.url}/v2/iex`, {
        adapter: 'alpaca',
        credentials: { key: 'mock-key', secret: 'mock-secret' },
      });
      await expect(socket.subscribe(Buffer.from([0xc1, 0xc1]))).rejects.toMatchObject({
        code: DaemonErrorCode.BAD_PARAMS,
      });
      // Nothing went upstream for it, and the strategy sharing the session is undisturbed.
      await expectOneSubscribedSession();
      const before = dataCount(strategy);
      await until(() => dataCount(strategy) > before, 'the strategy still receiving');
    } finally {
      await client.close();
    }
  });

  it('wrong keys reach AlpacaStream.connect as AuthFailedError with Alpaca code 402', async () => {
    const wrong = spawnStrategy({
      mockUrl: mock.url,
      path: 'v2/iex',
      runtimeDir,
      namespace,
      set: { trades: ['AAPL'] },
      env: { APCA_API_KEY_ID: 'not-a-key', APCA_API_SECRET_KEY: 'nope' },
    });
    children.push(wrong.child);
    await exited(wrong.child);
    expect(wrong.lines).toEqual([
      { connectFailed: { name: 'AuthFailedError', code: DaemonErrorCode.AUTH_FAILED, vendorCode: 402 } },
    ]);
    // Nobody else noticed: the shared session is still the one, still open.
    await expectOneSubscribedSession();
  });
});
