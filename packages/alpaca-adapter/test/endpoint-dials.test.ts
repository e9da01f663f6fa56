// Endpoint authentication must not spend the user's Alpaca budget: a key Alpaca refused is refused locally for a
// while, and new dials for unknown accounts are bounded per minute. Real daemon process serving the endpoint, real
// WebSocket clients, the mock as Alpaca; dials are counted from the mock's own record of sessions.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { adapterEntry, daemonInfo, spawnDaemon, stopChild } from './e2e-processes.js';

let mock: AlpacaMock;
let runtimeDir: string;
let daemon: ChildProcess;
let endpointUrl: string;

/** Connects as an SDK would (JSON), authenticates with `key`/`secret`, and resolves with Alpaca's answer code. */
function authenticate(key: string, secret: string): Promise<number | 'authenticated'> {
  const ws = new WebSocket(`${endpointUrl}/v2/iex`);
  return new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      for (const m of JSON.parse(data.toString()) as { T: string; msg?: string; code?: number }[]) {
        if (m.T === 'success' && m.msg === 'connected')
          ws.send(JSON.stringify({ action: 'auth', key, secret }));
        else if (m.T === 'success' && m.msg === 'authenticated') {
          ws.terminate();
          resolve('authenticated');
        } else if (m.T === 'error') {
          ws.terminate();
          resolve(m.code ?? 0);
        }
      }
    });
    ws.once('error', reject);
  });
}

const dials = () => mock.sessions({ endpoint: 'v2/iex' }).length;

beforeAll(async () => {
  mock = await startAlpacaMock({ rate: 5 });
  runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-endpoint-dials-'));
  daemon = spawnDaemon(
    [
      ...['--json', '--runtime-dir', runtimeDir, '--namespace', 'dials', '--adapter', adapterEntry],
      ...['--linger', '60000', '--log-level', 'warn', '--ring-size', '4194304', '--listen', '127.0.0.1:0'],
    ],
    { WSPROXY_ALPACA_DATA_URL: mock.url, WSPROXY_ALPACA_TRADING_URL: mock.url },
  );
  endpointUrl = (await daemonInfo(daemon)).endpoint as string;
});

afterAll(async () => {
  if (daemon) await stopChild(daemon);
  await mock?.close();
  rmSync(runtimeDir, { recursive: true, force: true });
});

describe('endpoint auth and upstream dials', { timeout: 60_000 }, () => {
  it('300 attempts with one refused key cost one dial; each still hears 402', async () => {
    const before = dials();
    const answers: (number | string)[] = [];
    for (let i = 0; i < 30; i++) {
      answers.push(
        ...(await Promise.all(Array.from({ length: 10 }, () => authenticate('bogus-key', 'bogus-secret')))),
      );
    }
    expect(answers.every((answer) => answer === 402)).toBe(true);
    expect(dials() - before).toBe(1);
  });

  it('120 invented keys: at most 60 dials a minute, the rest are refused locally (406); the real key still gets in', async () => {
    // The real key is accepted first: from then on it has its own budget.
    expect(await authenticate('mock-key', 'mock-secret')).toBe('authenticated');
    const before = dials();
    const answers = await Promise.all(
      Array.from({ length: 120 }, (_, i) => authenticate(`invented-${i}`, 'x')),
    );
    const dialled = dials() - before;
    expect(dialled).toBeLessThanOrEqual(60);
    expect(answers.filter((a) => a === 402)).toHaveLength(dialled);
    expect(answers.filter((a) => a === 406)).toHaveLength(120 - dialled);
    expect(await authenticate('mock-key', 'mock-secret')).toBe('authenticated');
  });
});
