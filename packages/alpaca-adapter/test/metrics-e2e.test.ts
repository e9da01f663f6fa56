// `/metrics` and `/readyz` of a real daemon routing for real strategy processes (AlpacaStream, and a process that
// counts every frame it is delivered) against the mock: the figures must be what the mock and the clients counted,
// and readiness must follow an upstream outage and its end.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plain, until } from './daemon-role.js';
import {
  adapterEntry,
  daemonInfo,
  exited,
  onlySession,
  type StrategyProcess,
  spawnDaemon,
  spawnStrategy,
  stopChild,
} from './e2e-processes.js';
import { type Sample, sample, scrape } from './prometheus-text.js';

let mock: AlpacaMock;
let runtimeDir: string;
const namespace = `alpaca-metrics-${process.pid}`;
let daemon: ChildProcess;
let metricsUrl: string;
const strategies: StrategyProcess[] = [];

async function startDaemon(): Promise<{ child: ChildProcess; info: { metrics: string; pid: number } }> {
  const child = spawnDaemon([
    ...['--json', '--runtime-dir', runtimeDir, '--namespace', namespace, '--adapter', adapterEntry],
    ...['--linger', '60000', '--log-level', 'warn', '--reconnect-initial', '50', '--reconnect-max', '500'],
    ...['--ring-size', '4194304', '--metrics', '127.0.0.1:0'],
  ]);
  return { child, info: (await daemonInfo(child)) as { metrics: string; pid: number } };
}

/** Polls `read` until two reads 300 ms apart agree on `key`: everything in flight has landed. */
async function settled<T>(
  read: () => Promise<T> | T,
  key: (value: T) => unknown,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = JSON.stringify(key(await read()));
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const value = await read();
    const now = JSON.stringify(key(value));
    if (now === last) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not settle in ${timeoutMs} ms`);
    last = now;
  }
}

beforeAll(async () => {
  mock = await startAlpacaMock({ rate: 25 });
  runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-alpaca-metrics-'));
  const started = await startDaemon();
  daemon = started.child;
  metricsUrl = started.info.metrics;
});

afterAll(async () => {
  await Promise.all(strategies.map((s) => stopChild(s.child)));
  if (daemon) await stopChild(daemon);
  await exited(daemon);
  await mock?.close();
  rmSync(runtimeDir, { recursive: true, force: true });
});

describe('/metrics during a routed run', { timeout: 90_000 }, () => {
  it('reports what the mock sent and what each client received', async () => {
    const common = { mockUrl: mock.url, path: 'v2/iex', runtimeDir, namespace };
    const alpacaStream = spawnStrategy({ ...common, set: { trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] } });
    strategies.push(alpacaStream);
    await until(
      () => alpacaStream.lines.some((l) => 'ack' in l),
      'the AlpacaStream strategy is subscribed',
      20_000,
    );
    const counter = spawnStrategy({
      ...common,
      set: { trades: ['AAPL', 'TSLA'], bars: ['NVDA'] },
      fixture: 'frame-counter.mjs',
    });
    strategies.push(counter);
    const frames = () =>
      counter.lines.filter((l) => 'frame' in l).map((l) => l.frame as { bytes: number; data: number });
    await until(
      () => frames().filter((f) => f.data > 0).length > 20,
      'data reaches the frame counter',
      20_000,
    );

    // Stop the market for this session (the mock withholds what it would send), then let the pipes drain.
    const upstream = onlySession(mock, 'v2/iex');
    mock.stall({ endpoint: 'v2/iex' });
    const upstreamLabels = { adapter: 'alpaca' };
    const metrics = await settled(
      async () => {
        const samples = await scrape(metricsUrl);
        return { samples, frames: frames().length, items: alpacaStream.lines.length };
      },
      ({ samples, frames, items }) => [
        frames,
        items,
        upstream.stats.framesSent,
        samples.filter((s) => s.name.endsWith('_total') && s.name.startsWith('wsproxy_')),
      ],
      'the daemon and the clients',
    );
    const m: Sample[] = metrics.samples;

    // Upstream: every frame the mock sent arrived, one WebSocket message each.
    expect(sample(m, 'wsproxy_upstream_messages_received_total', upstreamLabels)).toBe(
      upstream.stats.framesSent,
    );
    expect(sample(m, 'wsproxy_upstream_state', { ...upstreamLabels, state: 'open' })).toBe(1);
    expect(sample(m, 'wsproxy_upstream_state', { ...upstreamLabels, state: 'reconnecting' })).toBe(0);
    expect(sample(m, 'wsproxy_upstream_ready', upstreamLabels)).toBe(1);
    expect(sample(m, 'wsproxy_upstream_clients', upstreamLabels)).toBe(2);
    expect(sample(m, 'wsproxy_upstream_reconnects_total', upstreamLabels)).toBe(0);
    expect(sample(m, 'wsproxy_upstream_auth_failures_total', upstreamLabels)).toBe(0);
    expect(sample(m, 'wsproxy_upstream_last_message_age_seconds', upstreamLabels)).toBeGreaterThanOrEqual(0);

    // Adapter: every data item the mock sent was routed or counted as unrouted; the union is the mock's view.
    const routed = sample(m, 'wsproxy_adapter_items_routed_total', upstreamLabels);
    const unrouted = sample(m, 'wsproxy_adapter_items_unrouted_total', upstreamLabels);
    expect(routed + unrouted).toBe(upstream.sentData().length);
    expect(routed).toBeGreaterThan(0);
    const union = plain(upstream.subscriptions()) as Record<string, string[]>;
    for (const channel of ['trades', 'quotes', 'bars']) {
      expect(sample(m, 'wsproxy_adapter_subscribed_symbols', { ...upstreamLabels, channel })).toBe(
        union[channel]!.length,
      );
    }
    const requests = (plain(upstream.received) as { action: string }[]).filter(
      (r) => r.action === 'subscribe' || r.action === 'unsubscribe',
    ).length;
    expect(sample(m, 'wsproxy_adapter_upstream_requests_total', upstreamLabels)).toBe(requests);

    // Clients, found by pid (the label is the daemon's client id and the pid, never a name): the frame counter
    // got exactly the messages and bytes the daemon says it delivered to it, without a gap.
    const pid = String(counter.child.pid);
    expect(sample(m, 'wsproxy_client_delivered_messages_total', { pid })).toBe(metrics.frames);
    expect(sample(m, 'wsproxy_client_delivered_bytes_total', { pid })).toBe(
      frames().reduce((sum, f) => sum + f.bytes, 0),
    );
    for (const s of strategies) {
      const labels = { pid: String(s.child.pid) };
      expect(sample(m, 'wsproxy_client_gaps_total', labels)).toBe(
        s.lines.filter((l) => l.event === 'gap').length,
      );
      expect(sample(m, 'wsproxy_client_lost_records_total', labels)).toBe(0);
      // Drained: nothing left unread in the ring for it.
      expect(sample(m, 'wsproxy_client_ring_lag_bytes', labels)).toBe(0);
    }
    expect(sample(m, 'wsproxy_clients')).toBe(2);

    // Ring: everything a client got was a record; nothing is pending for the slowest reader.
    expect(sample(m, 'wsproxy_ring_records_written_total')).toBeGreaterThanOrEqual(metrics.frames);
    expect(sample(m, 'wsproxy_ring_used_bytes')).toBe(0);
    expect(sample(m, 'wsproxy_ring_capacity_bytes')).toBe(4_194_304);
    // Process defaults are there too.
    expect(sample(m, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    // Bounded labels: no symbol ever appears as a label value.
    const values = m.flatMap((s) => Object.values(s.labels));
    for (const symbol of ['AAPL', 'MSFT', 'TSLA', 'NVDA']) expect(values).not.toContain(symbol);
    mock.resume({ endpoint: 'v2/iex' });
  });

  it('/readyz is 503 naming the upstream during an outage, and 200 again once it is back', async () => {
    const ready = async () => {
      const response = await fetch(`${metricsUrl}/readyz`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect((await ready()).status).toBe(200);
    expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(200);

    // The upstream drops and the mock refuses to let it back for a while.
    mock.refuseUpgrades(2_000);
    expect(mock.drop({ endpoint: 'v2/iex' })).toBe(1);
    let during: Awaited<ReturnType<typeof ready>> | undefined;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      during = await ready();
      if (during.status === 503) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(during?.status).toBe(503);
    const [upstream] = during!.body.upstreams as {
      ready: boolean;
      url: string;
      state: string;
      reason: string;
    }[];
    expect(upstream).toMatchObject({ ready: false, url: `${mock.url}/v2/iex` });
    expect(upstream!.reason).toMatch(/^(reconnecting|connecting|not authenticated)/);
    const down = await scrape(metricsUrl);
    expect(sample(down, 'wsproxy_upstream_ready', { adapter: 'alpaca' })).toBe(0);
    // Liveness is a separate question: the process still answers.
    expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(200);

    let after = await ready();
    const backBy = Date.now() + 30_000;
    while (after.status !== 200 && Date.now() < backBy) {
      await new Promise((r) => setTimeout(r, 100));
      after = await ready();
    }
    expect(after).toMatchObject({ status: 200, body: { ready: true } });
    const up = await scrape(metricsUrl);
    expect(sample(up, 'wsproxy_upstream_ready', { adapter: 'alpaca' })).toBe(1);
    expect(sample(up, 'wsproxy_upstream_reconnects_total', { adapter: 'alpaca' })).toBe(1);
    // Both strategies were told, and data flows to them again.
    for (const s of strategies) {
      const lines = s.lines.length;
      await until(() => s.lines.length > lines, 'data after the reconnect', 20_000);
    }
  });
});
