// The daemon's side of "subscriptions are state": a version-3 client is answered with its acknowledged set and may
// restore one; an older client speaks as before (no state in answers, no restore), and bad state is a typed error to
// the one who sent it. Real daemon process, real Unix socket, a real WebSocket upstream.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DaemonMessage, PROTOCOL_VERSION } from '@wsproxy/protocol';
import { fetchStatus } from '@wsproxy/proxy-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type DaemonProcess, RawClient, startDaemon, until } from './helpers/processes.js';

let dir: string;
let daemon: DaemonProcess;
let upstream: WebSocketServer;
let upstreamUrl: string;
const received: string[] = [];
const clients: RawClient[] = [];

async function opened(name: string, versions?: { min: number; max: number }) {
  const c = await RawClient.connect(daemon.info.socket, name, versions);
  clients.push(c);
  const answer = await c.request({
    type: 'open',
    url: upstreamUrl,
    adapter: '',
    headers: [],
    credentials: null,
  });
  expect(answer).toMatchObject({ type: 'opened' });
  return { c, connectionId: (answer as { connectionId: number }).connectionId };
}

const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString() : undefined);
const stateOf = (answer: DaemonMessage) => text((answer as { state?: Uint8Array }).state);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsp-state-'));
  upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => upstream.once('listening', resolve));
  upstreamUrl = `ws://127.0.0.1:${(upstream.address() as { port: number }).port}/feed`;
  upstream.on('connection', (ws) => ws.on('message', (data) => received.push(data.toString())));
  daemon = await startDaemon(['--runtime-dir', dir, '--namespace', 'state', '--log-level', 'warn']);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await daemon?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('subscription state on the control protocol', () => {
  it('version 3: answers carry the acknowledged set, restore replaces it, status shows it', async () => {
    const { c, connectionId } = await opened('v3');
    expect(c.welcome.version).toBe(PROTOCOL_VERSION);
    const params = (topic: string) => new TextEncoder().encode(topic);
    const sub = await c.request({ type: 'subscribe', connectionId, params: params('t:A') });
    expect(sub).toMatchObject({ type: 'subscribed', alreadySubscribed: false });
    expect(stateOf(sub)).toBe('["t:A"]');
    expect(stateOf(await c.request({ type: 'subscribe', connectionId, params: params('t:B') }))).toBe(
      '["t:A","t:B"]',
    );
    expect(stateOf(await c.request({ type: 'unsubscribe', connectionId, params: params('t:A') }))).toBe(
      '["t:B"]',
    );
    // Restore makes the set equal to the state given: t:B dropped, t:C taken (sent upstream once).
    const restored = await c.request({ type: 'restore', connectionId, state: params('["t:C"]') });
    expect(restored).toMatchObject({ type: 'subscribed', alreadySubscribed: false });
    expect(stateOf(restored)).toBe('["t:C"]');
    await until(() => received.includes('t:C'), 't:C upstream');
    expect(received.filter((r) => r === 't:C')).toHaveLength(1);

    const status = await fetchStatus(daemon.info.socket);
    expect(status.upstreams[0]!.subscriptions).toEqual({ [String(c.welcome.clientId)]: ['t:C'] });

    // Bad state: a typed error to this client, its set untouched.
    expect(
      await c.request({ type: 'restore', connectionId, state: params('{"not":"topics"}') }),
    ).toMatchObject({
      type: 'error',
      code: 'WSP_ERR_INVALID_ARGUMENT',
    });
    expect((await fetchStatus(daemon.info.socket)).upstreams[0]!.subscriptions).toEqual({
      [String(c.welcome.clientId)]: ['t:C'],
    });
  });

  it('a version-2 client is answered as before (no state) and cannot send restore', async () => {
    const { c, connectionId } = await opened('v2', { min: 1, max: 2 });
    expect(c.welcome.version).toBe(2);
    const sub = await c.request({ type: 'subscribe', connectionId, params: new TextEncoder().encode('t:D') });
    expect(sub).toMatchObject({ type: 'subscribed' });
    expect('state' in sub).toBe(false);
    expect(
      await c.request({ type: 'restore', connectionId, state: new TextEncoder().encode('["t:D"]') }),
    ).toMatchObject({ type: 'error', code: 'WSP_ERR_NOT_SUPPORTED' });
  });
});
