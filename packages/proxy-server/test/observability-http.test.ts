// `/metrics`, `/healthz` and `/readyz` over real HTTP from a real daemon process: on the `--metrics` address and on
// the drop-in endpoint's port (where /metrics needs the access token), and readiness following a passthrough
// upstream that goes away and comes back.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { cli, type DaemonProcess, RawClient, startDaemon } from './helpers/processes.js';

const TOKEN = 'metrics-endpoint-token';
let dir: string;
const daemons: DaemonProcess[] = [];
const endpointAdapter = join(import.meta.dirname, 'fixtures', 'endpoint-adapter.mjs');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsp-observability-'));
});

afterAll(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function daemon(namespace: string, args: string[]): Promise<DaemonProcess> {
  // As a user runs it: pnpm's NODE_PATH (set for test runs) would find prom-client's dependencies however the
  // daemon resolved prom-client itself, and so hid a daemon that could not load it at all (see socketInode).
  const asInstalled = { NODE_PATH: '' };
  const started = await startDaemon(
    ['--runtime-dir', dir, '--namespace', namespace, '--log-level', 'warn', ...args],
    asInstalled,
  );
  daemons.push(started);
  return started;
}

const httpOf = (wsUrl: string) => wsUrl.replace(/^ws/, 'http');

describe('the observability paths', { timeout: 30_000 }, () => {
  it('--metrics serves Prometheus text, health and readiness; the endpoint port serves them too', async () => {
    const d = await daemon('obs-both', [
      '--adapter',
      endpointAdapter,
      '--listen',
      '0',
      '--listen-token',
      TOKEN,
      '--metrics',
      '127.0.0.1:0',
    ]);
    const metricsUrl = d.info.metrics!;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const metrics = await fetch(`${metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toContain('# TYPE wsproxy_ring_records_written_total counter');
    expect(text).toContain('wsproxy_ring_capacity_bytes 33554432');
    expect(text).toMatch(/^wsproxy_daemon_info\{version="[^"]+",protocol="\d+"\} 1$/m);
    expect(text).toMatch(/^wsproxy_endpoint_connections\{format="json"\} 0$/m);
    expect(text).toContain('process_resident_memory_bytes');

    expect(await (await fetch(`${metricsUrl}/healthz`)).text()).toBe('ok\n');
    const ready = await fetch(`${metricsUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, upstreams: [] });
    expect((await fetch(`${metricsUrl}/other`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/metrics`, { method: 'POST' })).status).toBe(405);
    const head = await fetch(`${metricsUrl}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    // On the endpoint's port: health for anyone (probes carry no token), metrics only with the token.
    const endpoint = httpOf(d.info.endpoint!);
    expect((await fetch(`${endpoint}/healthz`)).status).toBe(200);
    expect((await fetch(`${endpoint}/readyz`)).status).toBe(200);
    expect((await fetch(`${endpoint}/metrics`)).status).toBe(401);
    expect((await fetch(`${endpoint}/metrics?token=wrong`)).status).toBe(401);
    const withToken = await fetch(`${endpoint}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(withToken.status).toBe(200);
    expect(await withToken.text()).toContain('wsproxy_ring_capacity_bytes');
    // Anything else there is still the WebSocket endpoint's answer.
    expect((await fetch(`${endpoint}/v2/iex`)).status).toBe(426);
  });

  it('the Grafana dashboard and the metrics table of the docs name only metrics the daemon exports, and all of them', async () => {
    const d = await daemon('obs-docs', ['--metrics', '0']);
    const text = await (await fetch(`${d.info.metrics!}/metrics`)).text();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const docs = join(import.meta.dirname, '..', '..', '..', 'docs');
    const dashboard = readFileSync(join(docs, 'grafana-dashboard.json'), 'utf8');
    const read = new Set(
      [...dashboard.matchAll(/\b((?:wsproxy|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!),
    );
    expect([...read].filter((name) => !exported.has(name))).toEqual([]);
    const ours = [...exported].filter((name) => name.startsWith('wsproxy_'));
    // The docs' table lists every wsproxy metric, and the dashboard shows each of them somewhere.
    const table = readFileSync(join(docs, 'observability.md'), 'utf8');
    const documented = new Set([...table.matchAll(/^\| `(wsproxy_[a-z0-9_]+)`/gm)].map((m) => m[1]!));
    expect(ours.filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented].filter((name) => !exported.has(name))).toEqual([]);
    expect(ours.filter((name) => !read.has(name) && name !== 'wsproxy_daemon_info')).toEqual([]);
  });

  it('without --metrics: no /metrics anywhere, health still on the endpoint port', async () => {
    const d = await daemon('obs-endpoint-only', ['--adapter', endpointAdapter, '--listen', '0']);
    expect(d.info.metrics).toBeUndefined();
    const endpoint = httpOf(d.info.endpoint!);
    expect((await fetch(`${endpoint}/healthz`)).status).toBe(200);
    expect((await fetch(`${endpoint}/metrics`)).status).toBe(426);
  });

  it('a metrics port in use: the daemon does not start, says why, and leaves nothing behind', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const { code, stderr } = await cli([
      'start',
      '--runtime-dir',
      dir,
      '--namespace',
      'obs-port-busy',
      '--metrics',
      String(port),
    ]);
    blocker.close();
    expect(code).toBe(1);
    expect(stderr).toContain('EADDRINUSE');
    const status = await cli(['status', '--runtime-dir', dir, '--namespace', 'obs-port-busy']);
    expect(status.stdout).toContain('no wsproxy daemon is running');
    expect(readdirSync(dir).filter((name) => name.startsWith('obs-port-busy.sock'))).toEqual([]);
  });

  it('bad --metrics addresses are refused with the option named', async () => {
    const { code, stderr } = await cli([
      'start',
      '--runtime-dir',
      dir,
      '--namespace',
      'obs-bad',
      '--metrics',
      'x:y',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('--metrics expects PORT, HOST:PORT or [IPv6]:PORT');
  });
});

describe('/readyz follows an upstream', { timeout: 30_000 }, () => {
  it('503 naming the upstream and why while it reconnects, 200 once it is open again', async () => {
    let upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => upstream.once('listening', resolve));
    const port = (upstream.address() as { port: number }).port;
    const d = await daemon('obs-ready', [
      '--metrics',
      '0',
      '--reconnect-initial',
      '50',
      '--reconnect-max',
      '200',
    ]);
    const url = d.info.metrics!;
    const client = await RawClient.connect(d.info.socket, 'ready-test');
    try {
      const opened = await client.request({
        type: 'open',
        url: `ws://127.0.0.1:${port}/feed`,
        adapter: '',
        headers: [],
        credentials: null,
      });
      expect(opened.type).toBe('opened');
      expect((await fetch(`${url}/readyz`)).status).toBe(200);

      // The upstream goes away: connections cut, nothing listening.
      for (const ws of upstream.clients) ws.terminate();
      await new Promise((resolve) => upstream.close(resolve));
      type Readiness = { ready: boolean; upstreams: Record<string, unknown>[] };
      let answer: { status: number; body: Readiness } | undefined;
      const read = async () => {
        const response = await fetch(`${url}/readyz`);
        answer = { status: response.status, body: (await response.json()) as Readiness };
      };
      await read();
      const deadline = Date.now() + 5_000;
      while (answer!.status !== 503 && Date.now() < deadline) await read();
      expect(answer!.status).toBe(503);
      expect(answer!.body.ready).toBe(false);
      expect(answer!.body.upstreams).toEqual([
        expect.objectContaining({
          connectionId: 1,
          url: `ws://127.0.0.1:${port}/feed`,
          state: 'reconnecting',
          ready: false,
          reason: expect.stringMatching(/^reconnecting: /),
        }),
      ]);
      // Alive all the same.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      // Back on the same port: the daemon reconnects and is ready again.
      upstream = new WebSocketServer({ host: '127.0.0.1', port });
      await new Promise((resolve) => upstream.once('listening', resolve));
      const back = Date.now() + 10_000;
      while (answer!.status !== 200 && Date.now() < back) {
        await new Promise((r) => setTimeout(r, 50));
        await read();
      }
      expect(answer).toEqual({
        status: 200,
        body: { ready: true, upstreams: [expect.objectContaining({ ready: true, state: 'open' })] },
      });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(
        /^wsproxy_upstream_reconnects_total\{connection="1",url="ws:\/\/127\.0\.0\.1:\d+\/feed",adapter="passthrough"\} 1$/m,
      );
    } finally {
      client.close();
      for (const ws of upstream.clients) ws.terminate();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
