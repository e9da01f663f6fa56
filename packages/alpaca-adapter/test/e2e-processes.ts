// Shared by the end-to-end suites that run the real wsproxy daemon and strategy processes against the mock: where
// the daemon's CLI and this package's adapter entry are, reading a child's JSON lines, and the check that each
// strategy got exactly its own data.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { AlpacaMock, MockSession } from '@wsproxy/alpaca-mock';
import type { DaemonStatus, UpstreamStatus } from '@wsproxy/protocol';
import { expect } from 'vitest';

export type Line = Record<string, unknown>;

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const serverPackage = require.resolve('@wsproxy/proxy-server/package.json');

/** The `wsproxy` CLI script of the installed proxy-server package. */
export const wsproxyCli = join(
  dirname(serverPackage),
  (JSON.parse(readFileSync(serverPackage, 'utf8')) as { bin: { wsproxy: string } }).bin.wsproxy,
);

/** This package's built daemon entry, for `--adapter` (tests run after the build). */
export const adapterEntry = join(here, '..', 'dist', 'daemon.js');

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after 5 s if it is still there; resolves once the child is gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([exited(child), new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited(child);
}

/** Spawns `wsproxy start` with `args`, its stderr going to ours; the caller owns the process and must stop it. */
export function spawnDaemon(args: readonly string[], env?: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [wsproxyCli, 'start', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  child.stderr!.on('data', (c: Buffer) => process.stderr.write(c));
  return child;
}

/** Resolves once the daemon first writes to stdout (it serves by then); rejects if it exits before. */
export function daemonReady(daemon: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    daemon.stdout!.once('data', () => resolve());
    daemon.once('exit', (code) => reject(new Error(`daemon exited early (${code})`)));
  });
}

/** With `--json`: resolves with the first line the daemon prints (where it serves: ring, endpoint, metrics). */
export function daemonInfo(daemon: ChildProcess): Promise<Line> {
  return new Promise((resolve, reject) => {
    let out = '';
    daemon.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as Line);
    });
    daemon.once('exit', (code) => reject(new Error(`daemon exited early (${code})`)));
  });
}

/**
 * The daemon's report on the upstream whose URL ends in `/${endpoint}`, read by a real `wsproxy status --json`
 * process; undefined while the daemon holds no such upstream.
 */
export async function upstreamStatusOf(
  where: { runtimeDir: string; namespace: string },
  endpoint: string,
): Promise<UpstreamStatus | undefined> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [wsproxyCli, 'status', '--json', '--runtime-dir', where.runtimeDir, '--namespace', where.namespace],
    { timeout: 10_000 },
  );
  return (JSON.parse(stdout) as DaemonStatus).upstreams.find((u) => u.url.endsWith(`/${endpoint}`));
}

/** Collects the child's stdout JSON lines as they arrive; its stderr goes to ours. */
export function collectLines(child: ChildProcess): Line[] {
  const lines: Line[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) if (line) lines.push(JSON.parse(line) as Line);
  });
  child.stderr!.on('data', (c: Buffer) => process.stderr.write(c));
  return lines;
}

/** A strategy process: its JSON output lines and the subscription set it asked for. */
export interface StrategyProcess {
  readonly child: ChildProcess;
  readonly lines: Line[];
  readonly set: Record<string, string[]>;
}

export interface StrategySpawn {
  /** The mock's base URL; the strategy streams from `${mockUrl}/${path}`. */
  readonly mockUrl: string;
  readonly path: string;
  /** Where the daemon's socket lives, and its namespace. */
  readonly runtimeDir: string;
  readonly namespace: string;
  readonly set: Record<string, string[]>;
  /** Extra environment for the fixture (it reads LISTEN, SECRET, DAEMON_ARGS, ...). */
  readonly env?: Record<string, string>;
  /** A script in test/fixtures. Default `strategy.mjs` (AlpacaStream through the daemon's socket and ring). */
  readonly fixture?: string;
}

/** Starts a strategy fixture with the mock's keys; the caller owns the process and must stop it. */
export function spawnStrategy(options: StrategySpawn): StrategyProcess {
  const child = spawn(process.execPath, [join(here, 'fixtures', options.fixture ?? 'strategy.mjs')], {
    env: {
      ...process.env,
      STREAM_URL: `${options.mockUrl}/${options.path}`,
      RUNTIME_DIR: options.runtimeDir,
      NAMESPACE: options.namespace,
      SUBSCRIBE: JSON.stringify(options.set),
      APCA_API_KEY_ID: 'mock-key',
      APCA_API_SECRET_KEY: 'mock-secret',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, lines: collectLines(child), set: options.set };
}

function wants(set: Record<string, string[]>, m: Line): boolean {
  const channel = { t: 'trades', q: 'quotes', b: 'bars', c: 'trades', x: 'trades' }[m.T as string];
  const list = channel ? set[channel] : undefined;
  return !!list && (list.includes('*') || list.includes(m.S as string));
}

/** Id fields by item type: AlpacaStream hands them over as bigint (printed as digits), raw clients as numbers. */
const ID_FIELDS: Readonly<Record<string, readonly string[]>> = {
  t: ['i'],
  x: ['i'],
  c: ['oi', 'ci'],
  n: ['id'],
};

/** An item with its ids as strings of digits, so ids compare by value whatever their JS type. */
function idsAsDigits(m: Line): Line {
  const ids = ID_FIELDS[m.T as string];
  if (!ids) return m;
  const out = { ...m };
  for (const key of ids)
    if (typeof out[key] === 'number' || typeof out[key] === 'bigint') out[key] = String(out[key]);
  return out;
}

/**
 * `got` must be: a few late-joiner replays (each an earlier message of the record; with `oneReplayPerSymbol`, at
 * most one per type and symbol) and then a gap-free run of the record filtered by the strategy's set.
 */
export function expectExactlyItsOwn(
  gotAsPrinted: Line[],
  recordAsSent: Line[],
  set: Record<string, string[]>,
  { oneReplayPerSymbol = false }: { oneReplayPerSymbol?: boolean } = {},
): void {
  const got = gotAsPrinted.map(idsAsDigits);
  const record = recordAsSent.map(idsAsDigits);
  const mine = record.filter((m) => wants(set, m));
  const key = (m: Line) => JSON.stringify(m);
  const positions = new Map(mine.map((m, k) => [key(m), k]));
  // Find where the live run starts: the longest suffix that is contiguous in `mine`.
  let start = got.length - 1;
  while (start > 0) {
    const at = positions.get(key(got[start]!));
    const before = positions.get(key(got[start - 1]!));
    if (at === undefined || before === undefined || before !== at - 1) break;
    start--;
  }
  const live = got.slice(start);
  const first = positions.get(key(live[0]!));
  expect(first, 'the live run is in the record').toBeDefined();
  expect(live).toEqual(mine.slice(first!, first! + live.length));
  const replays = got.slice(0, start);
  for (const r of replays) {
    const k = positions.get(key(r));
    expect(k !== undefined && k < first!, 'a replay is an earlier message of the record').toBe(true);
  }
  if (oneReplayPerSymbol) expect(new Set(replays.map((r) => `${r.T}:${r.S}`)).size).toBe(replays.length);
  expect(live.length).toBeGreaterThan(10);
}

/** The one open session the mock has on `endpoint` (asserting there is exactly one). */
export function onlySession(mock: AlpacaMock, endpoint: string): MockSession {
  const open = mock.sessions({ endpoint, open: true });
  expect(open).toHaveLength(1);
  return open[0]!;
}
