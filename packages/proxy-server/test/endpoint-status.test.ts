// `wsproxy status` lists the drop-in endpoint's connections: real daemon process serving the endpoint, real `ws`
// clients connected to it, a real upstream; read through the CLI (human and --json) and fetchStatus.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointConnectionStatus } from '@wsproxy/protocol';
import { fetchStatus } from '@wsproxy/proxy-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type WebSocketServer } from 'ws';
import { startEchoUpstream } from './helpers/echo-upstream.js';
import { cli, type DaemonProcess, startDaemon, until } from './helpers/processes.js';

const TOKEN = 'endpoint-token-never-shown';
let dir: string;
let daemon: DaemonProcess;
let upstream: WebSocketServer;
const sockets: WebSocket[] = [];

function connect(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ ws: WebSocket; got: string[] }> {
  const ws = new WebSocket(`${daemon.info.endpoint}${path}`, { headers });
  sockets.push(ws);
  const got: string[] = [];
  ws.on('message', (data) => got.push(data.toString()));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, got }));
    ws.once('error', reject);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsp-endpoint-status-'));
  const echo = await startEchoUpstream();
  upstream = echo.server;
  daemon = await startDaemon(
    [
      '--runtime-dir',
      dir,
      '--namespace',
      'endpoint-status',
      '--log-level',
      'warn',
      '--adapter',
      join(import.meta.dirname, 'fixtures', 'endpoint-adapter.mjs'),
      '--listen',
      '0',
      '--listen-token',
      TOKEN,
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

describe('endpoint connections in wsproxy status', { timeout: 30_000 }, () => {
  it('lists each connection: remote, path, format, state, upstream, counters; never the token', async () => {
    // One joined msgpack client (token as the first path segment, and a query), one json client not yet joined.
    const joined = await connect(`/${TOKEN}/feed/v2?x=1`, { 'Content-Type': 'application/msgpack' });
    joined.ws.send('{"action":"join"}');
    await until(() => joined.got.includes('{"joined":true}'), 'the join');
    joined.ws.send('ping one');
    joined.ws.send('ping two');
    await until(() => joined.got.includes('ping two'), 'the echoes');
    const waiting = await connect('/feed', { Authorization: `Bearer ${TOKEN}` });
    await until(() => waiting.got.length === 1, 'the greeting');

    const status = await fetchStatus(daemon.info.socket);
    expect(status.endpoint?.url).toBe(daemon.info.endpoint);
    const connections = status.endpoint?.connections ?? [];
    expect(connections).toHaveLength(2);
    const [first, second] = connections as [EndpointConnectionStatus, EndpointConnectionStatus];
    const localPort = (ws: WebSocket) =>
      (ws as unknown as { _socket: { localPort: number } })._socket.localPort;
    expect(first).toMatchObject({
      remote: `127.0.0.1:${localPort(joined.ws)}`,
      path: '/feed/v2',
      format: 'msgpack',
      state: 'open',
      connectionId: status.upstreams[0]!.connectionId,
      messagesIn: 3,
      messagesOut: 4, // welcome, joined, two echoes
      bufferedBytes: 0,
      dropped: 0,
    });
    expect(first.bytesOut).toBe(
      ['{"welcome":true}', '{"joined":true}', 'ping one', 'ping two'].join('').length,
    );
    expect(second).toMatchObject({
      remote: `127.0.0.1:${localPort(waiting.ws)}`,
      path: '/feed',
      format: 'json',
      state: 'joining',
      connectionId: null,
      messagesIn: 0,
      messagesOut: 1,
    });
    // Endpoint connections are the upstream's clients, by the same ids.
    expect(status.upstreams[0]!.clients).toEqual([first.clientId]);

    const json = await cli(['status', '--runtime-dir', dir, '--namespace', 'endpoint-status', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).endpoint.connections).toHaveLength(2);
    expect(json.stdout).not.toContain(TOKEN);

    const human = await cli(['status', '--runtime-dir', dir, '--namespace', 'endpoint-status']);
    expect(human.stdout).toContain(`endpoint ${daemon.info.endpoint} (2 connections):`);
    expect(human.stdout).toContain(`#${first.clientId} ${first.remote} /feed/v2 msgpack open, connection`);
    expect(human.stdout).toContain(`#${second.clientId} ${second.remote} /feed json joining, connection -`);
    expect(human.stdout).not.toContain(TOKEN);

    // A connection that closes leaves the list.
    waiting.ws.close();
    let left: number[] = [];
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
      left = ((await fetchStatus(daemon.info.socket)).endpoint?.connections ?? []).map((c) => c.clientId);
      if (left.length === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(left).toEqual([first.clientId]);
  });

  it('a malformed percent-escape in the path is refused without the token, and the daemon serves on', async () => {
    // `%E0%A4%A` cannot be decoded: it once threw inside the upgrade handler and took the whole daemon down.
    const refused = new WebSocket(`${daemon.info.endpoint}/%E0%A4%A/feed`);
    refused.on('error', () => {});
    const status = await new Promise<number>((resolve) =>
      refused.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)),
    );
    expect(status).toBe(401);
    const after = await connect('/feed', { Authorization: `Bearer ${TOKEN}` });
    await until(() => after.got.length === 1, 'the greeting after the bad request');
    expect((await fetchStatus(daemon.info.socket)).daemon.pid).toBe(daemon.info.pid);
    expect(daemon.child.exitCode).toBeNull();
  });

  it('a daemon without the endpoint reports none', async () => {
    const plain = await startDaemon([
      '--runtime-dir',
      dir,
      '--namespace',
      'no-endpoint',
      '--log-level',
      'warn',
    ]);
    try {
      const status = await fetchStatus(plain.info.socket);
      expect(status.endpoint).toBeUndefined();
      const human = await cli(['status', '--runtime-dir', dir, '--namespace', 'no-endpoint']);
      expect(human.stdout).not.toContain('endpoint');
    } finally {
      await plain.stop();
    }
  });
});
