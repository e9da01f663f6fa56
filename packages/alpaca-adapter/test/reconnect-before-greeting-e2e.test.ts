// Issue 14 (found by the chaos suite, seed 1538330041): after an upstream drop, a client's subscribe that reached the
// daemon between the new socket's open and Alpaca's `connected` greeting was sent on the new, unauthenticated
// connection. Alpaca answers that with 401 "not authenticated", which the daemon took for a refused session: an
// extra redial, and the strategies told of a failure that was the daemon's own. Real processes: the daemon (its CLI
// with this package's adapter), two AlpacaStream strategies, the mock as Alpaca, and a loopback TCP relay in front
// of the mock that holds the server's bytes after the upgrade (the greeting) so the window is wide open.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import type { UpstreamStatus } from '@wsproxy/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { plain, until } from './daemon-role.js';
import {
  adapterEntry,
  daemonReady,
  exited,
  spawnDaemon,
  spawnStrategy,
  stopChild,
  upstreamStatusOf,
} from './e2e-processes.js';

/**
 * A TCP relay to the mock. From the second connection on, the server's bytes after the HTTP upgrade response (the
 * WebSocket frames, starting with the greeting) are held until `release()`; the client's bytes always pass.
 */
class GreetingHoldingRelay {
  readonly server: Server;
  readonly sockets: Socket[] = [];
  connections = 0;
  private releases: Array<() => void> = [];

  constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      this.connections += 1;
      const hold = this.connections > 1;
      const upstream = tcpConnect(target.port, target.host);
      this.sockets.push(client, upstream);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.pipe(upstream);
      if (!hold) {
        upstream.pipe(client);
        return;
      }
      let head = Buffer.alloc(0);
      const held: Buffer[] = [];
      let released = false;
      upstream.on('data', (chunk: Buffer) => {
        if (released) return void client.write(chunk);
        if (!head.includes('\r\n\r\n')) {
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          client.write(head.subarray(0, end + 4));
          if (head.length > end + 4) held.push(head.subarray(end + 4));
          return;
        }
        held.push(chunk);
      });
      this.releases.push(() => {
        released = true;
        for (const chunk of held) client.write(chunk);
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  release(): void {
    for (const go of this.releases.splice(0)) go();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let mock: AlpacaMock;
let relay: GreetingHoldingRelay;
let relayUrl: string;
let runtimeDir: string;
const namespace = `alpaca-greeting-${process.pid}`;
const children: ChildProcess[] = [];
let daemon: ChildProcess;

const upstreamStatus = () => upstreamStatusOf({ runtimeDir, namespace }, 'v2/iex');

/** Polls `wsproxy status` (a real CLI process) until `check` holds for the upstream; bounded. */
async function statusUntil(check: (u: UpstreamStatus) => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const u = await upstreamStatus();
    if (u && check(u)) return u;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(u)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  mock = await startAlpacaMock({ rate: 20 });
  const { hostname, port } = new URL(mock.url);
  relay = new GreetingHoldingRelay({ host: hostname, port: Number(port) });
  relayUrl = `ws://127.0.0.1:${await relay.listen()}`;
  runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-alpaca-greeting-'));
  daemon = spawnDaemon([
    ...['--runtime-dir', runtimeDir, '--namespace', namespace, '--adapter', adapterEntry],
    ...['--linger', '60000', '--log-level', 'info', '--ring-size', '4194304'],
    ...['--reconnect-initial', '100', '--reconnect-max', '800'],
  ]);
  children.push(daemon);
  await daemonReady(daemon);
});

afterAll(async () => {
  for (const child of children) if (child !== daemon) child.kill('SIGKILL');
  if (daemon) await stopChild(daemon);
  await Promise.all(children.map(exited));
  await relay?.close();
  await mock?.close();
  rmSync(runtimeDir, { recursive: true, force: true });
});

it('a subscribe that arrives before the new connection is authenticated waits for it: no 401, no extra redial', {
  timeout: 90_000,
}, async () => {
  const first = spawnStrategy({
    mockUrl: relayUrl,
    path: 'v2/iex',
    runtimeDir,
    namespace,
    set: { trades: ['AAPL'] },
  });
  children.push(first.child);
  await until(() => first.lines.some((l) => 'ack' in l), 'the first ack', 20_000);
  await until(() => first.lines.some((l) => 'data' in l), 'data', 10_000);

  // The upstream drops; the redial's socket opens but its greeting is held: the daemon is between open and auth.
  mock.drop({ endpoint: 'v2/iex' });
  await statusUntil((u) => u.state === 'authenticating' && relay.connections === 2, 'the redial to be open');

  // A second strategy joins and subscribes right now.
  const second = spawnStrategy({
    mockUrl: relayUrl,
    path: 'v2/iex',
    runtimeDir,
    namespace,
    set: { trades: ['MSFT'] },
  });
  children.push(second.child);
  await statusUntil((u) => u.clients.length === 2, 'the second strategy to join');
  // Its subscribe follows its join at once; give it time to reach the daemon (and, before the fix, the upstream).
  await new Promise((resolve) => setTimeout(resolve, 1_000));

  relay.release();
  await until(() => second.lines.some((l) => 'ack' in l || 'rejected' in l), 'the second answer', 20_000);
  await until(
    () => first.lines.some((l) => l.event === 'reconnected'),
    'the first to hear reconnected',
    20_000,
  );
  const before = second.lines.filter((l) => 'data' in l).length;
  await until(() => second.lines.filter((l) => 'data' in l).length > before, 'MSFT data', 10_000);

  // The second strategy's subscribe was answered with its ack, nobody heard of a failure.
  expect(plain(second.lines.find((l) => 'ack' in l || 'rejected' in l))).toMatchObject({
    ack: { trades: ['MSFT'] },
  });
  for (const s of [first, second])
    expect(s.lines.filter((l) => 'error' in l || 'alpacaError' in l)).toEqual([]);
  // The upstream: one session per dial (the first and the redial), no third one for a refusal; the live one
  // authenticated and subscribed to the union.
  expect(relay.connections).toBe(2);
  expect(mock.sessions({ endpoint: 'v2/iex' })).toHaveLength(2);
  const [live] = mock.sessions({ endpoint: 'v2/iex', open: true, authenticated: true });
  await until(() => (live!.subscriptions().trades ?? []).length === 2, 'the union on the upstream');
  expect(plain(live!.subscriptions())).toMatchObject({ trades: expect.arrayContaining(['AAPL', 'MSFT']) });
  // And the daemon says so.
  const status = await statusUntil((u) => u.state === 'open', 'the upstream open');
  expect(status.clients).toHaveLength(2);
});
