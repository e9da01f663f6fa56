// `wsproxy start --listen <port>` with no --adapter, as the README writes it: the daemon loads Alpaca's adapter for
// its endpoint by itself, from the project the command runs in (here this package, which resolves its own name),
// and an SDK-style strategy on the endpoint gets data from the one upstream session at the mock.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { until } from './daemon-role.js';
import { collectLines, exited, stopChild, wsproxyCli } from './e2e-processes.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const project = join(here, '..');
const runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-default-endpoint-'));
const namespace = `default-endpoint-${process.pid}`;
const where = ['--runtime-dir', runtimeDir, '--namespace', namespace];
const children: ChildProcess[] = [];
let mock: AlpacaMock;

beforeAll(async () => {
  mock = await startAlpacaMock({ rate: 50 });
});

afterAll(async () => {
  await Promise.all(children.map((child) => stopChild(child)));
  for (const child of children) {
    for (const name of readdirSync('/dev/shm').filter((n) => n.endsWith(`-${child.pid}`)))
      rmSync(join('/dev/shm', name), { force: true });
  }
  await mock.close();
  rmSync(runtimeDir, { recursive: true, force: true });
});

it('serves Alpaca on the endpoint with no --adapter: the adapter is loaded for it', {
  timeout: 40_000,
}, async () => {
  const daemon = spawn(
    process.execPath,
    [wsproxyCli, 'start', '--json', '--listen', '127.0.0.1:0', '--linger', '60000', ...where],
    {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WSPROXY_ALPACA_DATA_URL: mock.url },
    },
  );
  children.push(daemon);
  let stderr = '';
  daemon.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const info = await new Promise<{ endpoint?: string }>((resolve, reject) => {
    daemon.stdout!.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString().split('\n')[0]!)));
    daemon.once('exit', (code) => reject(new Error(`daemon exited (${code}): ${stderr}`)));
  });
  expect(info.endpoint).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);

  const { stdout } = await run(process.execPath, [wsproxyCli, 'status', '--json', ...where]);
  const status = JSON.parse(stdout) as { adapters: { name: string; module: string }[] };
  expect(status.adapters.find((a) => a.name === 'alpaca')?.module).toContain(
    join('alpaca-adapter', 'dist', 'daemon'),
  );

  const sdk = spawn(process.execPath, [join(here, 'fixtures', 'sdk-client.mjs')], {
    env: {
      ...process.env,
      ENDPOINT_URL: `${info.endpoint}/v2/iex`,
      ENCODING: 'json',
      SUBSCRIBE: JSON.stringify({ trades: ['AAPL'] }),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(sdk);
  const lines = collectLines(sdk);
  await until(() => lines.some((l) => 'data' in l), 'data on the endpoint', 20_000);
  expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(1);

  await stopChild(sdk);
  await run(process.execPath, [wsproxyCli, 'stop', ...where]);
  await exited(daemon);
  expect(daemon.exitCode).toBe(0);
  expect(existsSync(join(runtimeDir, `${namespace}.sock`))).toBe(false);
});
