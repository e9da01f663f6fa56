// `pnpm abuse [--seed N] [--ci]`: a real daemon (the `wsproxy` CLI, Alpaca adapter, drop-in endpoint) in front of
// the Alpaca mock, a legitimate strategy streaming through it in its own process, and every attack of issue 15 plus
// two seeded fuzzers, each from its own process. Throughout, the daemon must stay up and answer `status` within 1 s;
// after each attack it must return to its baseline RSS and descriptor count; at the end the strategy must have lost
// nothing the mock sent it. About 2 minutes; `--ci` scales every attack down to about 30 s.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startAlpacaMock } from '@wsproxy/alpaca-mock';
import { daemonEntryPath, fetchStatus } from '@wsproxy/proxy-server';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    ci: { type: 'boolean' },
    only: { type: 'string' },
    'keep-open': { type: 'boolean' },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 1e9) : Number(values.seed);
const ci = values.ci === true;
const scale = ci ? 0.25 : 1;
console.log(`abuse suite: seed ${seed}${ci ? ' (CI variant)' : ''}; replay with --seed ${seed}`);

const CASES = [
  'long-errors',
  'status-bomb',
  'endpoint-load',
  'control-flood',
  'slowloris',
  'header-secrets',
  'dial-storm',
  'idle-slots',
] as const;
/** RSS may settle this far above its baseline (V8 keeps some heap it grew into); descriptors must come back. */
const RSS_SLACK_KIB = 96 * 1024;
const RECOVERY_TIMEOUT_MS = 15_000;
/** TypeScript children run through tsx's loader (a root devDependency), on this same Node. */
const tsx = (file: string, args: string[] = []) =>
  [process.execPath, ['--import', 'tsx', join(here, file), ...args]] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const failures: string[] = [];

const mock = await startAlpacaMock({ rate: 20 });
const runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-abuse-'));
const namespace = `abuse-${process.pid}`;
const children: ChildProcess[] = [];

function lines(child: ChildProcess, onLine: (line: Record<string, unknown>) => void): void {
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let at = buffered.indexOf('\n');
    while (at >= 0) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      try {
        onLine(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a line of ours.
      }
      at = buffered.indexOf('\n');
    }
  });
}

const adapterEntry = fileURLToPath(import.meta.resolve('@wsproxy/alpaca-adapter/daemon'));
const daemon = spawn(
  process.execPath,
  [
    // ABUSE_DAEMON_NODE_ARGS (e.g. `--cpu-prof`) shows where the daemon spends an attack.
    ...(process.env.ABUSE_DAEMON_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    daemonEntryPath,
    'start',
    '--json',
    '--runtime-dir',
    runtimeDir,
    '--namespace',
    namespace,
    '--linger',
    '60000',
  ]
    .concat(['--log-level', 'warn', '--adapter', adapterEntry, '--listen', '127.0.0.1:0'])
    .concat(['--listen-max-connections', String(Math.round(2200 * scale) + 100), '--ring-size', '8388608']),
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      WSPROXY_ALPACA_DATA_URL: mock.url,
      WSPROXY_ALPACA_TRADING_URL: mock.url,
    },
  },
);
children.push(daemon);
let daemonExit: string | undefined;
daemon.once('exit', (code, signal) => {
  daemonExit = `daemon exited (${code ?? signal})`;
});
const info = await new Promise<{ pid: number; socket: string; endpoint: string }>((resolve, reject) => {
  lines(daemon, (line) => resolve(line as never));
  daemon.once('exit', () => reject(new Error('the daemon did not start')));
});

// Resident memory and open descriptors of the daemon, from /proc.
const rssKiB = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${info.pid}/status`, 'utf8'))?.[1] ?? 0);
const fds = () => readdirSync(`/proc/${info.pid}/fd`).length;

// The legitimate strategy.
const legit = spawn(...tsx('legit-client.ts'), {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: {
    ...process.env,
    ABUSE_URL: `${mock.url}/v2/iex`,
    ABUSE_RUNTIME_DIR: runtimeDir,
    ABUSE_NAMESPACE: namespace,
  },
});
children.push(legit);
let legitCount = 0;
let legitGaps = 0;
let legitFinal: { trades: string[]; gaps: number } | undefined;
let legitReady = false;
lines(legit, (line) => {
  if (line.subscribed) legitReady = true;
  if (typeof line.count === 'number') legitCount = line.count;
  if (typeof line.gaps === 'number') legitGaps = line.gaps;
  if (line.final) legitFinal = line as never;
});

// The monitor: `status` every 200 ms, each must answer within 1 s; RSS and descriptors sampled alongside.
let worstStatusMs = 0;
let slowStatuses = 0;
let peakRss = 0;
let monitoring = true;
const monitor = (async () => {
  while (monitoring) {
    const started = Date.now();
    const answered = await Promise.race([
      fetchStatus(info.socket).then(
        () => true,
        () => false,
      ),
      sleep(1_000).then(() => false),
    ]);
    const ms = Date.now() - started;
    worstStatusMs = Math.max(worstStatusMs, ms);
    if (!answered && monitoring && !daemonExit) {
      slowStatuses++;
      failures.push(`status did not answer within 1 s (at ${new Date().toISOString()})`);
    }
    if (!daemonExit) peakRss = Math.max(peakRss, rssKiB());
    await sleep(Math.max(0, 200 - ms));
  }
})();

/** Trades per second the legitimate client received over `ms`. */
async function legitRate(ms: number): Promise<number> {
  const before = legitCount;
  await sleep(ms);
  return ((legitCount - before) * 1000) / ms;
}

async function waitLegit(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!legitReady) {
    if (Date.now() > deadline || daemonExit) throw new Error('the legitimate client did not subscribe');
    await sleep(50);
  }
}

function runAttack(name: string): Promise<{ code: number; result: Record<string, unknown> | undefined }> {
  const child = spawn(...tsx('attacker.ts', [name, String(seed), String(scale)]), {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      ABUSE_SOCKET: info.socket,
      ABUSE_ENDPOINT: info.endpoint,
      ABUSE_MOCK_URL: mock.url,
    },
  });
  children.push(child);
  let result: Record<string, unknown> | undefined;
  lines(child, (line) => {
    result = line;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, result });
    }),
  );
}

interface Report {
  name: string;
  ok: boolean;
  peakRssMiB: number;
  recoverMs: number;
  rateBefore: number;
  rateDuring: number;
  worstStatusMs: number;
  detail: string;
}
const reports: Report[] = [];

async function attack(names: string[]): Promise<void> {
  const baselineRss = rssKiB();
  const baselineFds = fds();
  const rateBefore = await legitRate(1_000);
  peakRss = 0;
  worstStatusMs = 0;
  const countBefore = legitCount;
  const started = Date.now();
  const outcomes = await Promise.all(names.map(runAttack));
  const attackMs = Date.now() - started;
  const rateDuring = ((legitCount - countBefore) * 1000) / attackMs;
  const ended = Date.now();
  let recovered = false;
  while (Date.now() - ended < RECOVERY_TIMEOUT_MS && !daemonExit) {
    if (fds() <= baselineFds && rssKiB() <= baselineRss + RSS_SLACK_KIB) {
      recovered = true;
      break;
    }
    await sleep(50);
  }
  const recoverMs = Date.now() - ended;
  const name = names.join('+');
  const ok = outcomes.every((o) => o.code === 0) && recovered && !daemonExit;
  if (!ok) {
    failures.push(
      `${name}: ${daemonExit ?? ''} ${recovered ? '' : `not back to baseline (rss ${rssKiB()} KiB vs ${baselineRss}, fds ${fds()} vs ${baselineFds})`} ${outcomes.map((o) => JSON.stringify(o.result?.problems ?? `exit ${o.code}`)).join(' ')}`,
    );
  }
  reports.push({
    name,
    ok,
    peakRssMiB: Math.round(peakRss / 1024),
    recoverMs,
    rateBefore: Math.round(rateBefore),
    rateDuring: Math.round(rateDuring),
    worstStatusMs,
    detail: outcomes
      .map((o) => JSON.stringify({ ...o.result, problems: undefined, case: undefined }))
      .join(' '),
  });
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${name}: peak RSS ${Math.round(peakRss / 1024)} MiB, recovered in ${recoverMs} ms, legit ${Math.round(rateBefore)}/s before, ${Math.round(rateDuring)}/s during, worst status ${worstStatusMs} ms ${reports.at(-1)!.detail}`,
  );
}

let exitCode = 0;
try {
  await waitLegit();
  await sleep(2_000);
  // `--only a,b` runs just those cases (to replay one with its seed).
  const only = values.only?.split(',');
  for (const name of CASES) {
    if (daemonExit) break;
    if (!only || only.includes(name)) await attack([name]);
  }
  if (!daemonExit && (!only || only.includes('fuzz'))) await attack(['fuzz-control', 'fuzz-endpoint']);
  if (values['keep-open']) {
    console.log(`daemon ${info.pid} kept for inspection for 60 s`);
    await sleep(60_000);
  }
  // Let the last items in flight arrive, then compare with the mock's own record of what it sent.
  await sleep(500);
  legit.kill('SIGTERM');
  const deadline = Date.now() + 10_000;
  while (!legitFinal && Date.now() < deadline) await sleep(50);
  if (!legitFinal) failures.push('the legitimate client did not report');
  else {
    const got = new Set(legitFinal.trades);
    const sent = mock
      .sessions({ endpoint: 'v2/iex' })
      .flatMap((session) => session.sentData() as { T?: string; S?: string; i?: number }[])
      .filter((m) => m.T === 't' && (m.S === 'AAPL' || m.S === 'MSFT'))
      .map((m) => `${m.S}|${m.i}`);
    // Everything the mock sent between the client's first and last trade must have reached it.
    const first = sent.indexOf(legitFinal.trades[0] ?? '');
    const last = sent.lastIndexOf(legitFinal.trades.at(-1) ?? '');
    const window = first >= 0 && last >= first ? sent.slice(first, last + 1) : [];
    const lost = window.filter((key) => !got.has(key));
    console.log(
      `legit client: ${legitFinal.trades.length} trades, ${window.length} sent in its window, ${lost.length} lost, ${legitFinal.gaps} gaps`,
    );
    if (window.length === 0) failures.push('the legitimate client received nothing');
    if (lost.length > 0 || legitFinal.gaps > 0 || legitGaps > 0)
      failures.push(`the legitimate client lost ${lost.length} trades`);
  }
  if (daemonExit) failures.push(daemonExit);
} catch (error) {
  failures.push(String(error));
} finally {
  monitoring = false;
  await monitor;
  console.log(`status: worst ${worstStatusMs} ms in the last attack, ${slowStatuses} over 1 s in all`);
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await sleep(1_000);
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await mock.close();
  rmSync(runtimeDir, { recursive: true, force: true });
  for (const name of readdirSync('/dev/shm').filter((n) => n.endsWith(`-${info.pid}`))) {
    rmSync(join('/dev/shm', name), { force: true });
  }
  if (failures.length > 0) {
    console.log(`\nabuse suite FAILED (seed ${seed}):\n  ${failures.join('\n  ')}`);
    exitCode = 1;
  } else console.log(`\nabuse suite passed (seed ${seed})`);
}
process.exit(exitCode);
