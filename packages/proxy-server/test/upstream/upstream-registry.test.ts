// UpstreamRegistry with real upstream sockets (a loopback `ws` server) and a silent logger: credential gating,
// concurrent opens sharing one connection, teardown when the last member leaves, and a refused re-authentication
// that is redialled (not just logged) with every member told.
import type { AddressInfo } from 'node:net';
import { DaemonErrorCode } from '@wsproxy/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { passthrough, type UpstreamAdapterFactory } from '../../src/adapter.js';
import { CredentialsMismatchError } from '../../src/errors.js';
import type { ReconnectingInfo } from '../../src/upstream/upstream-connection.js';
import { type SharedUpstream, UpstreamRegistry } from '../../src/upstream/upstream-registry.js';

let server: WebSocketServer;
let url: string;
let registry: UpstreamRegistry;
const told: Array<{ what: string; upstream: number; info?: unknown }> = [];

/** An adapter whose session the "vendor" refuses on the reconnects listed in `refusals` (by reconnect number). */
function refusingAdapter(refusals: Set<number>): UpstreamAdapterFactory {
  let reconnects = 0;
  return {
    name: 'refusing',
    create: (context) => ({
      onUpstreamOpen(reconnected) {
        if (!reconnected) return;
        reconnects += 1;
        if (refusals.has(reconnects))
          return Promise.reject(
            Object.assign(new Error('Alpaca error 406: connection limit exceeded'), {
              code: DaemonErrorCode.UPSTREAM_LIMIT,
              vendorCode: 406,
            }),
          );
      },
      onUpstreamFrame: (frame) => context.deliver('all', frame.data, frame.isBinary),
    }),
  };
}

function makeRegistry(adapters: UpstreamAdapterFactory[] = []): UpstreamRegistry {
  return new UpstreamRegistry({
    adapters: new Map([passthrough, ...adapters].map((a) => [a.name, a])),
    logger: pino({ level: 'silent' }),
    defaults: { pingIntervalMs: 0, reconnect: { initialDelayMs: 20, maxDelayMs: 40 } },
    observer: {
      deliver: () => {},
      reconnecting: (upstream: SharedUpstream, info: ReconnectingInfo) =>
        told.push({ what: 'reconnecting', upstream: upstream.id, info }),
      reconnected: (upstream) => told.push({ what: 'reconnected', upstream: upstream.id }),
      closed: (upstream, info) => told.push({ what: 'closed', upstream: upstream.id, info }),
      frameDropped: (upstream, bytes) => told.push({ what: 'dropped', upstream: upstream.id, info: bytes }),
    },
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

beforeEach(async () => {
  told.length = 0;
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/feed`;
});

afterEach(async () => {
  await registry?.closeAll(1001, 'test over');
  for (const ws of server.clients) ws.terminate();
  await new Promise((resolve) => server.close(resolve));
});

describe('UpstreamRegistry', () => {
  it('concurrent opens of one URL and credentials share one connection; exactly one is new', async () => {
    registry = makeRegistry();
    const credentials = { key: 'k', secret: 's' };
    const opened = await Promise.all([1, 2, 3].map((client) => registry.open(client, { url, credentials })));
    expect(new Set(opened.map((o) => o.upstream.id)).size).toBe(1);
    expect(opened.filter((o) => o.isNew)).toHaveLength(1);
    expect(server.clients.size).toBe(1);
    expect([...opened[0]!.upstream.members.keys()]).toEqual([1, 2, 3]);
  });

  it('joining an authenticated upstream needs the same credentials; another key is another upstream', async () => {
    registry = makeRegistry();
    const owner = await registry.open(1, { url, credentials: { key: 'k', secret: 's' } });
    await expect(
      registry.open(2, { url, credentials: { key: 'k', secret: 'guess' } }),
    ).rejects.toBeInstanceOf(CredentialsMismatchError);
    expect(owner.upstream.members.has(2)).toBe(false);
    // Knowing only the URL never rides on the owner's session: it is an anonymous upstream of its own.
    const anonymous = await registry.open(2, { url });
    expect(anonymous.upstream.id).not.toBe(owner.upstream.id);
    expect(anonymous.upstream.identity.authenticated).toBe(false);
    const other = await registry.open(3, { url, credentials: { key: 'other', secret: 's' } });
    expect(other.isNew).toBe(true);
    expect(other.upstream.id).not.toBe(owner.upstream.id);
  });

  it('the last member leaving tears the upstream down; an open after that dials anew', async () => {
    registry = makeRegistry();
    const first = await registry.open(1, { url });
    await registry.release(1, first.upstream);
    expect(registry.size).toBe(0);
    expect(first.upstream.state.kind).toBe('closed');
    const again = await registry.open(2, { url });
    expect(again.isNew).toBe(true);
    expect(again.upstream.id).not.toBe(first.upstream.id);
  });

  it('a refused re-authentication is redialled with backoff until let in; status shows the failure meanwhile', async () => {
    registry = makeRegistry([refusingAdapter(new Set([1, 2]))]);
    const { upstream } = await registry.open(1, { url, adapter: 'refusing' });
    expect(upstream.state.kind).toBe('open');
    for (const ws of server.clients) ws.terminate();
    await until(() => told.some((t) => t.what === 'reconnected'), 'the reconnect that is let in');
    const retries = told.filter((t) => t.what === 'reconnecting').map((t) => t.info as ReconnectingInfo);
    // The drop, then one retry per refusal, each typed with the vendor's code.
    expect(retries.map((r) => r.failure.code)).toEqual([
      DaemonErrorCode.UPSTREAM_CLOSED,
      DaemonErrorCode.UPSTREAM_LIMIT,
      DaemonErrorCode.UPSTREAM_LIMIT,
    ]);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(retries[1]!.failure.vendorCode).toBe(406);
    expect(upstream.state.kind).toBe('open');
    expect(upstream.connection.lastFailure).toBeUndefined();
    expect(told.filter((t) => t.what === 'closed')).toEqual([]);
  });
});
