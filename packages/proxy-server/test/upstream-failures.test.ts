// What a client of a real daemon process hears when its upstream fails, by catalogue code: a redial refused or
// unreachable (typed error events, then `reconnecting`), an upstream given up for good (UPSTREAM_CLOSED with the
// close code, then `closed`), a send while the upstream is down (SEND_FAILED), a request on a connection it does not
// hold (UNKNOWN_CONNECTION). Spoken by hand (RawClient), so the events are seen exactly as the wire carries them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonErrorCode } from '@wsproxy/protocol';
import { fetchStatus } from '@wsproxy/proxy-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type DaemonProcess, RawClient, startDaemon, until } from './helpers/processes.js';

let dir: string;
let daemon: DaemonProcess;
let upstream: WebSocketServer;
let upstreamUrl: string;
const clients: RawClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsp-upstream-failures-'));
  upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => upstream.once('listening', resolve));
  upstreamUrl = `ws://127.0.0.1:${(upstream.address() as { port: number }).port}/feed`;
  daemon = await startDaemon([
    ...['--runtime-dir', dir, '--namespace', 'upstream-failures', '--log-level', 'warn'],
    ...['--reconnect-initial', '50', '--reconnect-max', '100', '--reconnect-attempts', '2'],
  ]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await daemon?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('upstream failures reach the clients they affect, typed', { timeout: 30_000 }, () => {
  it('unknown connection; upstream gone: unreachable redials, SEND_FAILED meanwhile, then UPSTREAM_CLOSED and closed', async () => {
    const client = await RawClient.connect(daemon.info.socket, 'failures');
    clients.push(client);
    expect(
      await client.request({ type: 'send', connectionId: 99, payload: new Uint8Array(1), binary: false }),
    ).toMatchObject({ type: 'error', code: DaemonErrorCode.UNKNOWN_CONNECTION });
    const opened = await client.request({
      type: 'open',
      url: upstreamUrl,
      adapter: '',
      headers: [],
      credentials: null,
    });
    const connectionId = opened.type === 'opened' ? opened.connectionId : 0;
    expect(connectionId).toBeGreaterThan(0);
    // A client that speaks only protocol version 2 shares the upstream: it must get the same errors, decodable by it.
    const older = await RawClient.connect(daemon.info.socket, 'version-2', { min: 1, max: 2 });
    clients.push(older);
    expect(older.welcome.version).toBe(2);
    const olderOpen = {
      type: 'open' as const,
      url: upstreamUrl,
      adapter: '',
      headers: [],
      credentials: null,
    };
    expect(await older.request(olderOpen)).toMatchObject({ type: 'opened', connectionId });

    // The upstream server goes away for good: every redial is refused at the TCP level.
    for (const ws of upstream.clients) ws.terminate();
    await new Promise((resolve) => upstream.close(resolve));
    await until(() => client.events.some((e) => e.kind === 'reconnecting'), 'reconnecting');
    const send = await client.request({
      type: 'send',
      connectionId,
      payload: Buffer.from('hi'),
      binary: false,
    });
    // Unless the daemon already gave up (then the connection is gone): either way the client is told, typed.
    expect([DaemonErrorCode.SEND_FAILED, DaemonErrorCode.UNKNOWN_CONNECTION]).toContain(
      send.type === 'error' ? send.code : send.type,
    );
    await until(() => client.events.some((e) => e.kind === 'closed'), 'closed');

    const kinds = client.events.map((e) => (e.kind === 'error' ? `error ${e.code}` : e.kind));
    expect(kinds).toEqual([
      'reconnecting', // the drop itself: said by `reconnecting` alone
      `error ${DaemonErrorCode.UPSTREAM_UNREACHABLE}`, // redial 1 refused
      'reconnecting',
      `error ${DaemonErrorCode.UPSTREAM_CLOSED}`, // redial 2 refused: the daemon gives up, says so, typed
      'closed',
    ]);
    const final = client.events.find((e) => e.kind === 'error' && e.code === DaemonErrorCode.UPSTREAM_CLOSED);
    expect(final).toMatchObject({ connectionId, vendorCode: 1006 });
    expect((final as { message: string }).message).toMatch(/gave up after 2 reconnect attempts/);
    expect(client.events.at(-1)).toMatchObject({ kind: 'closed', connectionId, code: 1006 });
    await until(() => older.events.some((e) => e.kind === 'closed'), 'closed, for the older client');
    const olderFinal = older.events.find(
      (e) => e.kind === 'error' && e.code === DaemonErrorCode.UPSTREAM_CLOSED,
    );
    expect(olderFinal).toBeDefined();
    expect(olderFinal).not.toHaveProperty('vendorCode');
    // The daemon holds nothing for it any more.
    const status = await fetchStatus(daemon.info.socket);
    expect(status.upstreams).toEqual([]);
    expect(status.clients.find((c) => c.name === 'failures')?.connections).toEqual([]);
    expect(status.clients.find((c) => c.name === 'version-2')?.connections).toEqual([]);
  });
});
