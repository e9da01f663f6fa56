#!/usr/bin/env node
/**
 * `pnpm demo`: the mock Alpaca server with its one-connection limit on, three strategy processes with overlapping
 * symbols sharing it through wsproxy, and a live table that proves it — one upstream session at the mock. It also
 * shows what happens without wsproxy: a direct second connection with the same keys gets Alpaca's 406.
 *
 * Everything it starts it stops: the strategies, the daemon (in a private runtime folder), the mock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { daemonEntryPath } from '@wsproxy/proxy-server';
import WebSocket from 'ws';
import type { StrategyStatus } from './strategy.js';
import { createView, renderTable } from './table.js';

const HELP = `wsproxy demo: three strategies, one Alpaca connection

Usage: pnpm demo [-- options]

  --seconds N   how long to run before stopping everything (default 15)
  --forever     keep running until Ctrl-C
  -h, --help    this text
`;

const STRATEGIES = [
  { name: 'momentum-A', symbols: ['AAPL', 'MSFT', 'NVDA'] },
  { name: 'momentum-B', symbols: ['MSFT', 'NVDA', 'AMD'] },
  { name: 'momentum-C', symbols: ['NVDA', 'AMD', 'TSLA'] },
];
const ENDPOINT = 'v2/iex';
const KEYS = { key: 'mock-key', secret: 'mock-secret' };

interface Running {
  name: string;
  child: ChildProcess;
  status: StrategyStatus | undefined;
  exited: Promise<number | null>;
  errors: string[];
}

function startStrategy(name: string, symbols: string[], mockUrl: string, env: NodeJS.ProcessEnv): Running {
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'strategy.js');
  const child = spawn(
    process.execPath,
    [
      entry,
      '--json',
      '--name',
      name,
      '--symbols',
      symbols.join(','),
      '--url',
      mockUrl,
      '--fast',
      '5',
      '--slow',
      '15',
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const running: Running = {
    name,
    child,
    status: undefined,
    errors: [],
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      running.status = JSON.parse(line) as StrategyStatus;
    } catch {
      // not a status line: the strategy's own prose, not for the table
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => running.errors.push(line));
  return running;
}

/** Connects straight to the mock with the same keys, as a fourth strategy would without wsproxy. */
function directConnectionAttempt(url: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}/${ENDPOINT}`);
    const finish = (answer: string) => {
      ws.terminate();
      resolve(answer);
    };
    ws.on('message', (data) => {
      for (const msg of JSON.parse(String(data)) as { T: string; msg?: string; code?: number }[]) {
        if (msg.T === 'success' && msg.msg === 'connected')
          ws.send(JSON.stringify({ action: 'auth', ...KEYS }));
        else if (msg.T === 'success' && msg.msg === 'authenticated') finish('authenticated (no limit hit?)');
        else if (msg.T === 'error') finish(`${msg.code} ${msg.msg}`);
      }
    });
    ws.on('error', (error) => finish(`failed: ${error.message}`));
  });
}

function unionOfSubscriptions(mock: AlpacaMock): string {
  const [session] = mock.sessions({ endpoint: ENDPOINT, open: true, authenticated: true });
  if (!session) return '(no session)';
  const subs = session.subscriptions() as Record<string, readonly string[]>;
  return ['trades', 'bars']
    .map((channel) => `${channel} ${[...(subs[channel] ?? [])].sort().join(',') || '-'}`)
    .join('; ');
}

function frame(mock: AlpacaMock, strategies: Running[], withoutWsproxy: string, elapsed: number): string[] {
  const rows = strategies.map((s) => [
    s.name,
    String(s.status?.pid ?? s.child.pid ?? '-'),
    s.status?.symbols.join(',') ?? '(starting)',
    String(s.status?.messages ?? 0),
    String(s.status?.signals ?? 0),
    s.status?.lastSignal ?? '-',
  ]);
  const daemonPids = [...new Set(strategies.map((s) => s.status?.daemonPid).filter(Boolean))];
  return [
    `wsproxy demo: three strategies, one Alpaca connection (${elapsed}s)`,
    '',
    ...renderTable(['strategy', 'pid', 'symbols', 'messages', 'signals', 'last signal'], rows),
    '',
    `upstream sessions at the mock (${ENDPOINT}): ${mock.sessionCount({ endpoint: ENDPOINT })}`,
    `union of subscriptions upstream: ${unionOfSubscriptions(mock)}`,
    `wsproxy daemon pid: ${daemonPids.join(', ') || '(starting)'}`,
    `without wsproxy, a direct second connection with the same keys gets: ${withoutWsproxy}`,
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '15' },
      forever: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const seconds = Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    console.error(`demo: --seconds must be a positive number, got ${values.seconds}`);
    return 2;
  }

  // A private runtime folder and namespace: the demo's daemon never meets a daemon the user already runs.
  const runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-demo-'));
  const namespace = 'demo';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WSPROXY_RUNTIME_DIR: runtimeDir,
    WSPROXY_NAMESPACE: namespace,
  };
  delete env.APCA_API_KEY_ID;
  delete env.APCA_API_SECRET_KEY;

  const mock = await startAlpacaMock({ connectionLimit: 1, rate: 20 });
  const strategies = STRATEGIES.map((s) => startStrategy(s.name, s.symbols, mock.url, env));
  const view = createView();
  const started = Date.now();
  let withoutWsproxy = '(waiting for the shared session)';
  let tried = false;

  const tick = () => {
    if (!tried && mock.sessionCount({ endpoint: ENDPOINT }) === 1) {
      tried = true;
      void directConnectionAttempt(mock.url).then((answer) => {
        withoutWsproxy = answer;
      });
    }
    view.show(frame(mock, strategies, withoutWsproxy, Math.round((Date.now() - started) / 1000)));
  };
  const refresh = setInterval(tick, process.stdout.isTTY ? 500 : 3000);

  const exitedEarly: string[] = [];
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (!values.forever) setTimeout(resolve, seconds * 1000);
    for (const s of strategies) {
      void s.exited.then(() => {
        exitedEarly.push(s.name);
        resolve();
      });
    }
  });
  clearInterval(refresh);
  tick();
  view.done();

  // The proof, checked rather than just shown.
  const sessions = mock.sessionCount({ endpoint: ENDPOINT });
  const silent = strategies.filter((s) => (s.status?.messages ?? 0) === 0).map((s) => s.name);
  const stoppedEarly = [...exitedEarly];

  for (const s of strategies) s.child.kill('SIGTERM');
  await Promise.all(strategies.map((s) => s.exited));
  for (const s of strategies.filter((s) => s.errors.length > 0)) {
    console.error(`${s.name} stderr:\n  ${s.errors.join('\n  ')}`);
  }
  const stop = spawn(process.execPath, [daemonEntryPath, 'stop', '--namespace', namespace], {
    env,
    stdio: 'ignore',
  });
  await new Promise((resolve) => stop.once('exit', resolve));
  await mock.close();
  const leftovers = readdirSync(runtimeDir).filter((f) => f.endsWith('.sock'));
  rmSync(runtimeDir, { recursive: true, force: true });

  console.log('');
  const problems = [
    ...(sessions === 1 ? [] : [`the mock saw ${sessions} upstream sessions, not 1`]),
    ...silent.map((name) => `${name} received no data`),
    ...stoppedEarly.map((name) => `${name} stopped before the end`),
    ...leftovers.map((file) => `the daemon left ${file} behind`),
  ];
  console.log(
    `result: upstream sessions = ${sessions}; strategies receiving data: ${3 - silent.length} of 3`,
  );
  if (problems.length > 0) {
    console.log(`result: FAILED: ${problems.join('; ')}`);
    return 1;
  }
  console.log('result: OK: three strategies shared one upstream session; everything stopped cleanly');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`demo: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
