// The drop-in endpoint's bounds, against a real daemon process: TCP connections in all and per remote address
// (slowloris peers included), the time to send the upgrade, and the access token read from a file so that it never
// shows in `ps`.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type DaemonProcess, RawClient, startDaemon, until } from './helpers/processes.js';

const TOKEN = 'token-from-a-file-never-in-ps';
let dir: string;
let daemon: DaemonProcess;
let port: number;

/** A TCP connection to the endpoint that sends one header byte every `everyMs` (a slowloris peer). */
function slowloris(
  everyMs: number,
): Promise<{ socket: Socket; answer: () => string; closed: () => boolean }> {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  let closed = false;
  socket.on('data', (chunk) => {
    answer += chunk.toString();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
  });
  const request = `GET /feed HTTP/1.1\r\nHost: 127.0.0.1\r\n${'X-Pad: y\r\n'.repeat(100)}`;
  let at = 0;
  const timer = setInterval(() => {
    if (closed || at >= request.length) clearInterval(timer);
    else socket.write(request[at++]!);
  }, everyMs);
  socket.on('close', () => clearInterval(timer));
  return new Promise((resolve) =>
    socket.once('connect', () => resolve({ socket, answer: () => answer, closed: () => closed })),
  );
}

function upgrade(): Promise<number> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/feed`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  return new Promise((resolve) => {
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    ws.once('error', () => resolve(0));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsp-endpoint-bounds-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  chmodSync(tokenFile, 0o600);
  daemon = await startDaemon([
    '--runtime-dir',
    dir,
    '--namespace',
    'endpoint-bounds',
    '--log-level',
    'warn',
    '--adapter',
    join(import.meta.dirname, 'fixtures', 'endpoint-adapter.mjs'),
    '--listen',
    '0',
    '--listen-token-file',
    tokenFile,
    '--listen-max-connections',
    '40',
    '--listen-max-per-remote',
    '30',
  ]);
  port = Number(new URL(daemon.info.endpoint!).port);
});

afterAll(async () => {
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('endpoint bounds', { timeout: 60_000 }, () => {
  it('reads its token from the file: the command line shows no token, and the token lets clients in', async () => {
    const commandLine = readFileSync(`/proc/${daemon.info.pid}/cmdline`, 'utf8');
    expect(commandLine).not.toContain(TOKEN);
    expect(await upgrade()).toBe(101);
  });

  it('slowloris peers from one address stop at its bound (503) and are cut after 5 s; others still get in', async () => {
    const peers = await Promise.all(Array.from({ length: 34 }, () => slowloris(500)));
    await until(() => peers.filter((p) => p.closed()).length >= 4, 'the refusals');
    const refused = peers.filter((p) => p.closed());
    expect(refused).toHaveLength(4);
    for (const peer of refused)
      expect(peer.answer()).toMatch(/^HTTP\/1.1 503 Too Many Connections \(maxConnectionsPerRemote 30\)/);
    // The shared-memory side never notices.
    const client = await RawClient.connect(daemon.info.socket, 'shm-client');
    expect((await client.request({ type: 'status' }, 1_000)).type).toBe('statusReport');
    // The slow ones hold their descriptors only until the handshake timeout.
    await until(() => peers.every((p) => p.closed()), 'the handshake timeout', 10_000);
    expect(await upgrade()).toBe(101);
    client.close();
  });

  it('past the total bound every new connection is answered 503 naming it', async () => {
    // Two remote addresses (127.0.0.1 and 127.0.0.2) so the per-remote bound is not the one hit.
    const held: Socket[] = [];
    for (const host of ['127.0.0.1', '127.0.0.2']) {
      for (let i = 0; i < 20; i++) {
        const socket = connect({ port, host: '127.0.0.1', localAddress: host });
        socket.on('error', () => {});
        held.push(socket);
        await new Promise((resolve) => socket.once('connect', resolve));
      }
    }
    const extra = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.3' });
    let answer = '';
    extra.on('data', (chunk) => {
      answer += chunk.toString();
    });
    extra.on('error', () => {});
    await until(() => answer.length > 0, 'the refusal');
    expect(answer).toMatch(/^HTTP\/1.1 503 Too Many Connections \(maxConnections 40\)/);
    for (const socket of held) socket.destroy();
    extra.destroy();
  });
});
