// Everything a local process can make the daemon hold on its control socket is bounded, and hitting a bound is a
// typed error to that process alone: connections that never say hello, bytes before hello, answers it never reads,
// reader slots held by idle clients, and sessions guarded by headers other than the well-known credential ones.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlStreamDecoder, type DaemonMessage, encodeControlFrame } from '@wsproxy/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type DaemonProcess, RawClient, startDaemon, until } from './helpers/processes.js';

let dir: string;
let daemon: DaemonProcess;
let upstream: WebSocketServer;
let upstreamUrl: string;

/** A raw control connection: what it received, decoded, and whether the daemon closed it. */
function rawConnection(): Promise<{ socket: Socket; got: DaemonMessage[]; closed: () => boolean }> {
  const socket = connect(daemon.info.socket);
  const got: DaemonMessage[] = [];
  let closed = false;
  const decoder = new ControlStreamDecoder({
    onMessage: (message) => got.push(message as DaemonMessage),
    onDoorbell: () => {},
  });
  socket.on('data', (chunk) => {
    try {
      decoder.push(chunk);
    } catch {
      // The test only cares about what was whole.
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
  });
  return new Promise((resolve) =>
    socket.once('connect', () => resolve({ socket, got, closed: () => closed })),
  );
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsp-control-bounds-'));
  upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => upstream.once('listening', resolve));
  upstreamUrl = `ws://127.0.0.1:${(upstream.address() as { port: number }).port}/feed`;
  daemon = await startDaemon([
    '--runtime-dir',
    dir,
    '--namespace',
    'control-bounds',
    '--log-level',
    'warn',
    '--max-clients',
    '4',
    '--idle-client',
    '500',
  ]);
});

afterAll(async () => {
  await daemon?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('control socket bounds', { timeout: 60_000 }, () => {
  it('connections that never say hello: the 65th is refused at once, and all are gone after 2 s', async () => {
    const silent = await Promise.all(Array.from({ length: 65 }, () => rawConnection()));
    await until(() => silent.some((c) => c.closed()), 'one refusal');
    const refused = silent.filter((c) => c.closed());
    expect(refused).toHaveLength(1);
    expect(refused[0]!.got).toMatchObject([{ type: 'error', code: 'WSP_ERR_TOO_MANY_CONNECTIONS' }]);
    await until(() => silent.every((c) => c.closed()), 'the hello timeout', 5_000);
    expect(
      silent.filter((c) => c.got.some((m) => 'code' in m && m.code === 'WSP_ERR_HANDSHAKE_REQUIRED')),
    ).toHaveLength(64);
    // And a real client is served straight after.
    const client = await RawClient.connect(daemon.info.socket, 'after-the-flood');
    expect((await client.request({ type: 'status' })).type).toBe('statusReport');
    client.close();
  });

  it('a frame header claiming 64 MiB before hello: refused after 64 KiB, memory unchanged', async () => {
    const before = rssKiB(daemon.info.pid);
    const peers = await Promise.all(Array.from({ length: 8 }, () => rawConnection()));
    const header = Buffer.alloc(5);
    header[0] = 0x57;
    header.writeUInt32LE(64 * 1024 * 1024, 1);
    for (const peer of peers) {
      peer.socket.write(header);
      peer.socket.write(Buffer.alloc(256 * 1024));
    }
    await until(() => peers.every((p) => p.closed()), 'every peer cut off');
    for (const peer of peers) {
      expect(peer.got).toMatchObject([{ type: 'error', code: 'WSP_ERR_OVER_LIMIT' }]);
    }
    expect(rssKiB(daemon.info.pid) - before).toBeLessThan(32 * 1024);
  });

  it('a client asking for status without ever reading is cut off; the daemon does not grow', {
    timeout: 30_000,
  }, async () => {
    const before = rssKiB(daemon.info.pid);
    const greedy = await RawClient.connect(daemon.info.socket, 'never-reads');
    const socket = (greedy as unknown as { socket: Socket }).socket;
    socket.pause();
    const request = encodeControlFrame({ type: 'status', requestId: 1 });
    let written = 0;
    // About 20 MiB of reports asked for (each ~2 KiB), bounded in count.
    while (written < 10_000) {
      socket.write(request);
      written++;
    }
    const watcher = await RawClient.connect(daemon.info.socket, 'watcher');
    let peak = 0;
    // Reading paused for more than the stall limit (10 s) is a slow consumer, even under the byte limit.
    const deadline = Date.now() + 15_000;
    let cut = false;
    socket.once('close', () => {
      cut = true;
    });
    while (Date.now() < deadline) {
      peak = Math.max(peak, rssKiB(daemon.info.pid));
      const answer = await watcher.request({ type: 'status' }, 1_000);
      expect(answer.type).toBe('statusReport');
      const status = (answer as unknown as { status: { clients: { name: string }[] } }).status;
      if (!status.clients.some((c) => c.name === 'never-reads')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The daemon dropped the client (its slot is free) while its own memory stayed within the queue bound.
    const status = await watcher.request({ type: 'status' });
    expect(
      (status as unknown as { status: { clients: { name: string }[] } }).status.clients.map((c) => c.name),
    ).not.toContain('never-reads');
    expect(peak - before).toBeLessThan(64 * 1024);
    socket.resume();
    await until(() => cut, 'the greedy connection closed');
    watcher.close();
  });

  it('when every slot is taken, a client idle past the limit gives its slot to a newcomer; a busy one keeps its own', async () => {
    const idle = await Promise.all(
      [0, 1, 2, 3].map((i) => RawClient.connect(daemon.info.socket, `idle-${i}`)),
    );
    // The first stays busy: an open connection keeps a client's slot whatever its age.
    expect(
      (
        await idle[0]!.request({
          type: 'open',
          url: upstreamUrl,
          adapter: '',
          headers: [],
          credentials: null,
        })
      ).type,
    ).toBe('opened');
    await new Promise((resolve) => setTimeout(resolve, 700));
    const newcomer = await RawClient.connect(daemon.info.socket, 'newcomer');
    expect(newcomer.welcome.type).toBe('welcome');
    await until(() => idle.filter((c) => c.isClosed).length === 1, 'one idle client evicted');
    expect(idle[0]!.isClosed).toBe(false);
    expect(idle[1]!.isClosed).toBe(true);
    for (const client of [...idle, newcomer]) client.close();
  });
});

describe('secrets in any header guard a passthrough session', { timeout: 30_000 }, () => {
  it('a process without, or with a wrong, X-Auth-Token or Api-Key cannot join; the same one can', async () => {
    const owner = await RawClient.connect(daemon.info.socket, 'owner');
    const headers: [string, string][] = [
      ['X-Auth-Token', 'owner-token'],
      ['Api-Key', 'owner-key'],
      ['User-Agent', 'strategy/1'],
    ];
    const opened = await owner.request({
      type: 'open',
      url: upstreamUrl,
      adapter: '',
      headers,
      credentials: null,
    });
    expect(opened).toMatchObject({ type: 'opened', isNew: true });
    const tries: [string, [string, string][]][] = [
      ['none', []],
      [
        'wrong token',
        [
          ['X-Auth-Token', 'guess'],
          ['Api-Key', 'owner-key'],
        ],
      ],
      ['no api key', [['X-Auth-Token', 'owner-token']]],
      [
        'wrong api key',
        [
          ['X-Auth-Token', 'owner-token'],
          ['Api-Key', 'guess'],
        ],
      ],
    ];
    for (const [what, given] of tries) {
      const intruder = await RawClient.connect(daemon.info.socket, `intruder ${what}`);
      const answer = await intruder.request({
        type: 'open',
        url: upstreamUrl,
        adapter: '',
        headers: given,
        credentials: null,
      });
      expect(answer, what).toMatchObject({ type: 'error', code: 'WSP_ERR_CREDENTIALS_MISMATCH' });
      intruder.close();
    }
    // The same secrets join, whatever harmless headers differ.
    const peer = await RawClient.connect(daemon.info.socket, 'peer');
    const joined = await peer.request({
      type: 'open',
      url: upstreamUrl,
      adapter: '',
      headers: [
        ['api-key', 'owner-key'],
        ['x-auth-token', 'owner-token'],
        ['User-Agent', 'other/2'],
      ],
      credentials: null,
    });
    expect(joined).toMatchObject({ type: 'opened', isNew: false });
    owner.close();
    peer.close();
  });
});
