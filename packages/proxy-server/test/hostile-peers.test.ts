// What a local process may send the daemon without crashing it or disturbing anyone else: error messages quoting
// long values, status reports too big for the wire, the endpoint's long paths. Real daemon process, real Unix
// socket, real WebSocket upstream; a bystander client on the daemon checks after each attack that it still serves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DaemonMessage } from '@wsproxy/protocol';
import { fetchStatus } from '@wsproxy/proxy-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { type DaemonProcess, RawClient, startDaemon } from './helpers/processes.js';

let dir: string;
let daemon: DaemonProcess;
let upstream: WebSocketServer;
let upstreamBase: string;
let bystander: RawClient;

function errorOf(answer: DaemonMessage): { code: string; message: string } {
  expect(answer.type).toBe('error');
  return answer as { type: 'error'; code: string; message: string } & DaemonMessage;
}

/** The daemon is alive, its socket answers, and the bystander's connection was never cut. */
async function daemonStillServes(): Promise<void> {
  expect(daemon.child.exitCode).toBeNull();
  const answer = await bystander.request({ type: 'status' }, 2_000);
  expect(answer.type).toBe('statusReport');
  expect(bystander.isClosed).toBe(false);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsp-hostile-'));
  upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => upstream.once('listening', resolve));
  upstreamBase = `ws://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  daemon = await startDaemon(
    [
      '--runtime-dir',
      dir,
      '--namespace',
      'hostile',
      '--log-level',
      'warn',
      '--adapter',
      join(import.meta.dirname, 'fixtures', 'endpoint-adapter.mjs'),
      '--listen',
      '0',
      '--max-status-bytes',
      '262144',
    ],
    { WSP_TEST_UPSTREAM: `${upstreamBase}/feed` },
  );
  bystander = await RawClient.connect(daemon.info.socket, 'bystander');
});

afterAll(async () => {
  bystander?.close();
  await daemon?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('error messages quoting what a peer sent', { timeout: 60_000 }, () => {
  it('an open of a 5,000-character URL gets a typed error quoting it cut, and the daemon carries on', async () => {
    const client = await RawClient.connect(daemon.info.socket, 'long-url');
    const url = `ws://127.0.0.1:1/${'a'.repeat(5000)}`;
    const error = errorOf(
      await client.request({ type: 'open', url, adapter: '', headers: [], credentials: null }),
    );
    expect(error.code).toBe('WSP_ERR_UPSTREAM_UNREACHABLE');
    expect(error.message).toContain(`ws://127.0.0.1:1/${'a'.repeat(100)}`);
    expect(error.message).toContain(`… (${url.length} chars)`);
    expect(Buffer.byteLength(error.message)).toBeLessThanOrEqual(4096);
    expect(client.isClosed).toBe(false);
    client.close();
    await daemonStillServes();
  });

  it('a 4,000-character adapter name or module path is quoted cut', async () => {
    const client = await RawClient.connect(daemon.info.socket, 'long-names');
    const name = 'n'.repeat(4000);
    const unknown = errorOf(
      await client.request({
        type: 'open',
        url: `${upstreamBase}/x`,
        adapter: name,
        headers: [],
        credentials: null,
      }),
    );
    expect(unknown.code).toBe('WSP_ERR_UNKNOWN_ADAPTER');
    expect(unknown.message).toContain('… (4000 chars)');

    const module = `/${'m'.repeat(3999)}`;
    const load = errorOf(
      await client.request({
        type: 'open',
        url: `${upstreamBase}/x`,
        adapter: 'other',
        adapterModule: module,
        headers: [],
        credentials: null,
      }),
    );
    expect(load.code).toBe('WSP_ERR_ADAPTER_LOAD_FAILED');
    expect(load.message).toContain('… (4000 chars)');
    client.close();
    await daemonStillServes();
  });

  it('a credentials mismatch on a long URL is a typed error; the owner keeps its connection', async () => {
    const url = `${upstreamBase}/${'p'.repeat(5000)}`;
    const owner = await RawClient.connect(daemon.info.socket, 'owner');
    const opened = await owner.request({
      type: 'open',
      url,
      adapter: '',
      headers: [['Authorization', 'Bearer owner-secret']],
      credentials: null,
    });
    expect(opened.type).toBe('opened');
    const intruder = await RawClient.connect(daemon.info.socket, 'intruder');
    const error = errorOf(
      await intruder.request({
        type: 'open',
        url,
        adapter: '',
        headers: [['Authorization', 'Bearer guess']],
        credentials: null,
      }),
    );
    expect(error.code).toBe('WSP_ERR_CREDENTIALS_MISMATCH');
    expect(error.message).toContain(`… (${url.length} chars)`);
    const status = await fetchStatus(daemon.info.socket);
    const held = status.upstreams.find((u) => u.url.length > 5000);
    expect(held?.clients).toEqual([owner.welcome.clientId]);
    owner.close();
    intruder.close();
    await daemonStillServes();
  });
});

describe('the status report and the endpoint paths behind it', { timeout: 90_000 }, () => {
  const sockets: WebSocket[] = [];
  afterAll(() => {
    for (const ws of sockets) ws.terminate();
  });

  function open(path: string): Promise<number> {
    const ws = new WebSocket(`${daemon.info.endpoint}${path}`);
    sockets.push(ws);
    return new Promise((resolve) => {
      ws.once('open', () => resolve(101));
      ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      ws.once('error', () => resolve(0));
    });
  }

  it('an upgrade on /feed followed by 15,000 slashes is refused 414 and never stored', async () => {
    expect(await open(`/feed${'/'.repeat(15_000)}`)).toBe(414);
    const status = await fetchStatus(daemon.info.socket);
    expect(status.endpoint?.connections ?? []).toEqual([]);
    await daemonStillServes();
  });

  it('300 connections on 1,000-byte paths: status answers, cut to its limit, and says what it cut', async () => {
    const path = `/feed${'/x'.repeat(495)}`;
    const codes = await Promise.all(Array.from({ length: 300 }, () => open(path)));
    expect(codes.every((code) => code === 101)).toBe(true);
    const status = await fetchStatus(daemon.info.socket);
    const listed = status.endpoint?.connections.length ?? 0;
    expect(listed).toBeGreaterThan(0);
    expect(listed).toBeLessThan(300);
    expect(status.truncated).toEqual({
      maxBytes: 262_144,
      lists: [{ list: 'endpoint.connections', shown: listed, total: 300 }],
    });
    expect(Buffer.byteLength(JSON.stringify(status))).toBeLessThanOrEqual(262_144);
    await daemonStillServes();
    for (const ws of sockets.splice(0)) ws.terminate();
  });
});
