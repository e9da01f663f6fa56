// Issue 14, item 5: the daemon must not exit in the middle of an upstream reconnect. When the upstream drops, the
// drop-in endpoint closes its connections with 1012 (the vendor's "reconnect" signal); an SDK reconnects after its
// own delay. Those connections were closed by the daemon itself, so they do not count as "nobody left": with a
// linger far shorter than the SDK's delay, the daemon is still there when the SDK comes back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type WebSocketServer } from 'ws';
import { startEchoUpstream } from './helpers/echo-upstream.js';
import { type DaemonProcess, startDaemon, until } from './helpers/processes.js';

const LINGER_MS = 300;
let dir: string;
let daemon: DaemonProcess;
let upstream: WebSocketServer;
const sockets: WebSocket[] = [];

async function joined(): Promise<{ ws: WebSocket; got: string[]; closed: Promise<number> }> {
  const ws = new WebSocket(`${daemon.info.endpoint}/feed`);
  sockets.push(ws);
  const got: string[] = [];
  ws.on('message', (data) => got.push(data.toString()));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send('{"action":"join"}');
  await until(() => got.includes('{"joined":true}'), 'the join');
  return { ws, got, closed };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsp-endpoint-redial-'));
  const echo = await startEchoUpstream();
  upstream = echo.server;
  daemon = await startDaemon(
    [
      ...['--runtime-dir', dir, '--namespace', 'endpoint-redial', '--log-level', 'warn'],
      ...['--adapter', join(import.meta.dirname, 'fixtures', 'endpoint-adapter.mjs'), '--listen', '0'],
      ...['--linger', String(LINGER_MS), '--reconnect-initial', '50'],
    ],
    { WSP_TEST_UPSTREAM: echo.url },
  );
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await daemon?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('an upstream redial with only endpoint clients', { timeout: 30_000 }, () => {
  it('closes them with 1012 and stays up past its linger until they come back', async () => {
    const first = await joined();
    first.ws.send('before');
    await until(() => first.got.includes('before'), 'the echo');
    // The upstream drops: the endpoint tells its client the vendor's way.
    for (const ws of upstream.clients) ws.terminate();
    expect(await first.closed).toBe(1012);
    // An SDK's reconnect delay, several lingers long.
    await new Promise((resolve) => setTimeout(resolve, LINGER_MS * 5));
    expect(daemon.child.exitCode, 'the daemon is still running').toBeNull();
    const again = await joined();
    again.ws.send('after');
    await until(() => again.got.includes('after'), 'the echo after the redial');
    // Once everyone really left, the linger applies as before.
    again.ws.close();
    await again.closed;
    await until(() => daemon.child.exitCode !== null, 'the daemon to linger out', 10_000);
    expect(daemon.child.exitCode).toBe(0);
  });
});
