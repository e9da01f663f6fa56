// The daemon was started by someone who knew nothing of Alpaca: a plain @wsproxy/client user, whose client spawned
// it WITHOUT --adapter. A later AlpacaStream in another process still works: its open names this package's daemon
// entry (`adapterModule`) and the daemon loads it on demand. A module that cannot be loaded is a typed error for its
// requester only. Real processes throughout: the daemon, a strategy process, the mock as Alpaca, a passthrough
// upstream.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { connect, type WsproxyClient } from '@wsproxy/client';
import { fetchStatus } from '@wsproxy/proxy-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { until } from './daemon-role.js';
import { adapterEntry, exited, type StrategyProcess, spawnStrategy } from './e2e-processes.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const namespace = `on-demand-${process.pid}`;
let runtimeDir: string;
let mock: AlpacaMock;
let echo: WebSocketServer;
let echoUrl: string;
let plain: WsproxyClient;
let daemonPid = 0;
const clients: WsproxyClient[] = [];
const children: ChildProcess[] = [];

/** One passthrough round trip on the plain client's socket: proof that it is still served. */
async function roundTrip(socket: Awaited<ReturnType<WsproxyClient['open']>>, text: string): Promise<void> {
  const got: string[] = [];
  const onMessage = (m: { data: Buffer | string }) => got.push(m.data.toString());
  socket.on('message', onMessage);
  try {
    await socket.send(text);
    await until(() => got.includes(text), `the echo of ${text}`, 10_000);
  } finally {
    socket.off('message', onMessage);
  }
}

beforeAll(async () => {
  runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-on-demand-'));
  mock = await startAlpacaMock({ rate: 25 });
  echo = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => echo.once('listening', resolve));
  echo.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  echoUrl = `ws://127.0.0.1:${(echo.address() as { port: number }).port}/`;
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  for (const c of clients) await c.close();
  if (daemonPid) {
    // The daemon our plain client spawned: stop it now rather than after its linger.
    try {
      process.kill(daemonPid, 'SIGTERM');
    } catch {
      // already gone
    }
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      try {
        process.kill(daemonPid, 0);
      } catch {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const name of readdirSync('/dev/shm').filter((n) => n.endsWith(`-${daemonPid}`)))
      rmSync(join('/dev/shm', name), { force: true });
  }
  await mock?.close();
  await new Promise((resolve) => echo?.close(resolve));
  rmSync(runtimeDir, { recursive: true, force: true });
});

describe('a daemon started without --adapter', { timeout: 60_000 }, () => {
  it('a plain client spawns it; AlpacaStream in another process then subscribes and gets trades', async () => {
    plain = await connect({ runtimeDir, namespace, name: 'plain' });
    clients.push(plain);
    daemonPid = plain.daemonPid;
    const socket = await plain.open(echoUrl);
    await roundTrip(socket, 'before');
    const before = await fetchStatus(plain.paths.socketPath);
    expect(before.adapters).toEqual([{ name: 'passthrough', module: '' }]);

    const strategy: StrategyProcess = spawnStrategy({
      mockUrl: mock.url,
      path: 'v2/iex',
      runtimeDir,
      namespace,
      set: { trades: ['AAPL'] },
    });
    children.push(strategy.child);
    await until(() => strategy.lines.some((l) => 'ack' in l || 'rejected' in l), 'the ack', 20_000);
    expect(strategy.lines.find((l) => 'ack' in l)?.ack).toMatchObject({
      T: 'subscription',
      trades: ['AAPL'],
    });
    await until(
      () => strategy.lines.some((l) => (l.data as { T?: string } | undefined)?.T === 't'),
      'a trade',
      20_000,
    );
    expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(1);
    const status = await fetchStatus(plain.paths.socketPath);
    expect(status.daemon.pid).toBe(daemonPid);
    // With the version of the package the module belongs to: one daemon never mixes two builds of an adapter.
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
    expect(status.adapters).toContainEqual({ name: 'alpaca', module: adapterEntry, version });
    expect(status.upstreams.map((u) => u.adapter).sort()).toEqual(['alpaca', 'passthrough']);
    await roundTrip(socket, 'after the alpaca open');
  });

  it('a module that cannot be loaded: a typed error for that client only', async () => {
    const other = await connect({ runtimeDir, namespace, name: 'bad-module', spawn: false });
    clients.push(other);
    expect(other.daemonPid).toBe(daemonPid);
    for (const [module, reason] of [
      [join(fixtures, 'broken-adapter.mjs'), /broken on purpose/],
      [join(fixtures, 'not-an-adapter.mjs'), /exports no adapter factory/],
      ['./test/fixtures/broken-adapter.mjs', /absolute path to a file or a package specifier/],
    ] as const) {
      const failure = await other
        .open(`${mock.url}/v2/iex`, {
          adapter: 'alpaca-next',
          adapterModule: module,
          credentials: { key: 'mock-key', secret: 'mock-secret' },
        })
        .then(
          () => undefined,
          (error: unknown) => error as { name: string; code: string; message: string },
        );
      expect(failure, module).toMatchObject({
        name: 'AdapterLoadError',
        code: 'WSP_ERR_ADAPTER_LOAD_FAILED',
      });
      expect(failure?.message).toMatch(reason);
    }
    // The failing client itself is still connected and usable.
    expect(other.state).toBe('connected');
    expect((await other.status()).daemon.pid).toBe(daemonPid);

    // Nobody else noticed: the plain client's socket still echoes, the strategy still gets trades, one session.
    const plainStatus = (await plain.status()).clients.find((c) => c.name === 'plain');
    expect(plainStatus?.connections).toHaveLength(1);
    const echoed = await plain.open(echoUrl);
    await roundTrip(echoed, 'after the bad modules');
    const strategy = children[0]!;
    expect(strategy.exitCode).toBeNull();
    expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(1);
    expect((await plain.status()).adapters?.map((a) => a.name)).toEqual(['passthrough', 'alpaca']);
  });
});
