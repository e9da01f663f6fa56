/**
 * One chaos run: the mock (one connection per key), a daemon the strategies spawn, five strategy processes
 * churning subscriptions, the leak phase, then the seeded fault schedule with an agreement check after each fault,
 * the data check over the whole run, and the leftovers check after cleanup.
 */
import { fork } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AlpacaMock, DEFAULT_KEY, DEFAULT_SECRET, startAlpacaMock } from '@wsproxy/alpaca-mock';
import {
  type DaemonPlace,
  daemonArgs,
  footprint,
  isAlive,
  isOurDaemon,
  readStatus,
  ringSegments,
  runtimeLeftovers,
} from './daemon.js';
import { describeFault, drawSchedule, type Fault, type FaultKind, settleBoundMs } from './faults.js';
import { Strategy, type StrategyKind } from './fleet.js';
import { checkAgreement, checkData, iso, type Observed, type Violation } from './invariants.js';
import { SeededRandom } from './random.js';
import type { Report } from './strategies/messages.js';
import { CHANNELS, type ChannelSet, SYMBOLS } from './subscriptions.js';
import { UpstreamLedger } from './upstream-ledger.js';

const here = dirname(fileURLToPath(import.meta.url));
const UPSTREAM_PATH = 'v2/iex';
/** A change not answered within this is a finding: failures must be delivered, never a hang. */
const ANSWER_TIMEOUT_MS = 10_000;
const SLOTS: readonly StrategyKind[] = ['shm', 'shm', 'shm', 'endpoint-msgpack', 'endpoint-json'];

export interface RunOptions {
  readonly seed: number;
  /** Budget of the fault phase, seconds. */
  readonly durationS: number;
  /** Leak phase: connect/subscribe/close cycles (0 skips it). */
  readonly churnCycles: number;
  /** Go on after the first failed agreement (default: stop injecting, check data, clean up). */
  readonly keepGoing: boolean;
  /** Only these faults (default: all). */
  readonly faults?: readonly FaultKind[];
  /** Where the daemon's log is copied when the run fails (the runtime dir itself is always removed). */
  readonly keepLogAs?: string;
  readonly log: (line: string) => void;
}

export interface RunResult {
  readonly violations: Violation[];
  readonly schedule: Fault[];
  readonly injected: number;
  readonly notes: string[];
  /** Ended early by SIGINT/SIGTERM (cleanup still ran). */
  readonly interrupted: boolean;
  readonly elapsedMs: number;
}

export async function runChaos(options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const { log } = options;
  const random = new SeededRandom(options.seed);
  const violations: Violation[] = [];
  const notes: string[] = [];
  const strategies: (Strategy | undefined)[] = [];
  const retired: Strategy[] = [];
  const daemonPids = new Set<number>();
  const churnChildren: number[] = [];
  const place: DaemonPlace = {
    runtimeDir: mkdtempSync(join(tmpdir(), 'wsproxy-chaos-')),
    namespace: `chaos-${process.pid}`,
    endpointPort: await freePort(),
  };
  const schedule = drawSchedule(
    random.fork('schedule'),
    { shm: [0, 1, 2], endpoint: [3, 4] },
    options.durationS * 1000,
    options.faults,
  );
  const churn = random.fork('churn');
  let mock: AlpacaMock | undefined;
  let ledger: UpstreamLedger | undefined;
  let injected = 0;
  /** Settled agreements that compared each view with the daemon's per-client set (0: the report has none). */
  let daemonSetChecks = 0;
  let agreements = 0;

  const env = (m: AlpacaMock): Record<string, string> => ({
    CHAOS_RUNTIME_DIR: place.runtimeDir,
    CHAOS_NAMESPACE: place.namespace,
    CHAOS_DAEMON_ARGS: JSON.stringify(daemonArgs(place)),
    CHAOS_STREAM_URL: `${m.url}/${UPSTREAM_PATH}`,
    CHAOS_ENDPOINT_URL: `ws://127.0.0.1:${place.endpointPort}/${UPSTREAM_PATH}`,
    APCA_API_KEY_ID: DEFAULT_KEY,
    APCA_API_SECRET_KEY: DEFAULT_SECRET,
    // The daemon's endpoint dials Alpaca here; a daemon a strategy spawns inherits it.
    WSPROXY_ALPACA_DATA_URL: m.url,
    WSPROXY_RUNTIME_DIR: place.runtimeDir,
    XDG_RUNTIME_DIR: place.runtimeDir,
  });

  const spawnSlot = async (slot: number, m: AlpacaMock): Promise<Strategy> => {
    const previous = strategies[slot];
    if (previous) retired.push(previous);
    const generation = retired.filter((s) => s.life.name.startsWith(`slot${slot}-`)).length;
    const kind = SLOTS[slot] as StrategyKind;
    const strategy = new Strategy({ name: `slot${slot}-${kind}#${generation}`, kind, env: env(m) });
    strategies[slot] = strategy;
    await waitUntil(() => strategy.life.events.some((e) => e.name === 'ready' || e.name === 'exit'), 30_000);
    return strategy;
  };

  const noteDaemon = async () => {
    const status = await readStatus(place);
    if (status) daemonPids.add(status.daemon.pid);
    return status;
  };

  /** Every live strategy's view and identity, the daemon's status, the upstream's sessions — then compare. */
  const agreementNow = async (m: AlpacaMock) => {
    const observed: Observed[] = [];
    for (const s of strategies) {
      if (!s?.life.alive) continue;
      const answer = (await s.request({ op: 'report' }, 2000)) as
        | Extract<Report, { type: 'view' }>
        | undefined;
      observed.push({
        life: s.life,
        view: answer?.view,
        clientId: answer?.clientId,
        localPort: answer?.localPort,
      });
    }
    const status = await noteDaemon();
    const sessions = m.sessions({ endpoint: UPSTREAM_PATH, open: true, authenticated: true });
    return checkAgreement(observed, status, sessions);
  };

  const settle = async (m: AlpacaMock, what: string, boundMs: number): Promise<boolean> => {
    const deadline = Date.now() + boundMs;
    for (;;) {
      const agreement = await agreementNow(m);
      if (agreement.discrepancies.length === 0) {
        agreements += 1;
        if (agreement.daemonSetsChecked) daemonSetChecks += 1;
        return true;
      }
      if (Date.now() >= deadline) {
        violations.push({
          at: Date.now(),
          invariant: `views agree within ${boundMs} ms after ${what}`,
          detail: agreement.discrepancies.join('\n      '),
        });
        return false;
      }
      await sleep(300);
    }
  };

  /** One subscription change by a random live strategy; an unanswered change is a violation. */
  const churnOnce = async () => {
    const live = strategies.filter((s): s is Strategy => !!s?.life.alive && !stopped.has(s));
    if (live.length === 0) return;
    const s = churn.pick(live);
    const view = s.life.view;
    const subscribe = churn.next() < 0.6 || CHANNELS.every((c) => view[c].length === 0);
    const set: Partial<ChannelSet> = {};
    for (const channel of churn.some(CHANNELS, 2)) {
      const pool = subscribe || view[channel].length === 0 ? SYMBOLS : view[channel];
      set[channel] = churn.some(pool, 3);
    }
    const action = subscribe ? 'subscribe' : 'unsubscribe';
    const answer = await s.request({ op: 'change', action, set }, ANSWER_TIMEOUT_MS);
    if (!answer && s.life.alive) {
      violations.push({
        at: Date.now(),
        invariant: `every change is answered within ${ANSWER_TIMEOUT_MS} ms (an ack or a typed error)`,
        detail: `${s.life.name} (pid ${s.life.pid}) ${action} ${JSON.stringify(set)} got no answer`,
      });
    }
  };

  const stopped = new Set<Strategy>();
  // Ctrl-C ends the run early but still through cleanup (a second one exits at once).
  let interrupted = false;
  const interrupt = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: stopping after the current step, then cleaning up (Ctrl-C again to exit at once)');
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);

  const toldAnythingSince = (at: number): boolean =>
    [...retired, ...strategies].some((s) => s?.life.windows.some((w) => w.from >= at));

  /** What the strategies were told since a moment, one short phrase each: the log line after a fault. */
  const toldSince = (at: number): string => {
    const phrases: string[] = [];
    for (const s of [...retired, ...strategies]) {
      if (!s) continue;
      const l = s.life;
      const told = [
        ...l.windows.filter((w) => w.from >= at).map((w) => w.why.split(' {')[0] as string),
        ...l.gaps.filter((g) => g.at >= at).map(() => 'gap'),
        ...l.events
          .filter((e) => e.at >= at && e.name !== 'close' && e.name !== 'ready')
          .map(
            (e) =>
              `${e.name}${typeof e.detail === 'object' && e.detail && 'code' in e.detail ? ` ${String((e.detail as { code: unknown }).code)}` : ''}`,
          ),
      ];
      if (told.length > 0) phrases.push(`${l.name}: ${[...new Set(told)].join(', ')}`);
    }
    return phrases.length > 0 ? phrases.join('; ') : 'nothing';
  };

  try {
    mock = await startAlpacaMock({ rate: 10, recordLimit: 5_000_000 });
    const m = mock;
    ledger = new UpstreamLedger(m, UPSTREAM_PATH);
    log(
      `mock ${m.url} (one connection per key); runtime dir ${place.runtimeDir}, namespace ${place.namespace}`,
    );

    // The first strategy spawns the daemon; the others join it.
    const first = await spawnSlot(0, m);
    if (!first.life.alive)
      throw new Error(`the first strategy could not start: ${JSON.stringify(first.life.events)}`);
    await noteDaemon();

    if (options.churnCycles > 0) {
      const leak = await leakPhase(place, options.churnCycles, env(m), churnChildren, log);
      if (leak) violations.push(leak);
    }

    await Promise.all(SLOTS.slice(1).map((_, k) => spawnSlot(k + 1, m)));
    for (let k = 0; k < SLOTS.length * 2; k++) await churnOnce();
    await settle(m, 'start-up', 10_000);

    const phaseEnd = Date.now() + options.durationS * 1000;
    for (const fault of schedule) {
      if (Date.now() >= phaseEnd || interrupted) break;
      if (violations.length > 0 && !options.keepGoing) break;
      const churnUntil = Date.now() + fault.churnMs;
      while (Date.now() < churnUntil && !interrupted) {
        await churnOnce();
        await sleep(churn.int(50, 250));
      }
      log(`${iso(Date.now())} fault ${describeFault(fault)}`);
      injected += 1;
      const faultAt = Date.now();
      await inject(fault, m);
      if (fault.kind === 'upstream-half-dead' && !toldAnythingSince(faultAt)) {
        violations.push({
          at: Date.now(),
          invariant: `a half-dead upstream is detected (ping every 1.5 s, pong within 1 s) while it stays silent`,
          detail: `the upstream answered no ping for ${fault.holdMs} ms and no strategy was told anything`,
        });
      }
      const settled = await settle(m, `fault ${describeFault(fault)}`, settleBoundMs(fault));
      log(
        `  ${settled ? 'settled' : 'DID NOT SETTLE'} after ${Date.now() - faultAt} ms; told: ${toldSince(faultAt)}`,
      );
    }

    // Let the last batches arrive, then judge every life's data up to now.
    await sleep(1000);
    const judgedUntil = Date.now() - 500;
    const sent = ledger.items;
    const byKey = ledger.sentAt();
    for (const s of [...retired, ...strategies]) {
      if (!s) continue;
      violations.push(...checkData(s.life, sent, byKey, judgedUntil));
      const exit = s.life.events.find((e) => e.name === 'exit');
      if (exit && !s.life.endedBy) {
        violations.push({
          at: exit.at,
          invariant: 'no strategy process dies by itself',
          detail: `${s.life.name} (pid ${s.life.pid}) exited: ${JSON.stringify(exit.detail)}`,
        });
      }
    }
    log(`upstream sent ${sent.length} data items; ${retired.length + SLOTS.length} strategy lives judged`);
    if (agreements > 0 && daemonSetChecks === 0) {
      notes.push(
        'the status report has no per-client subscription sets (upstreams[].subscriptions): "process view == daemon set" was not checked',
      );
    } else {
      log(
        `${daemonSetChecks} of ${agreements} settled agreements compared every view with the daemon's per-client set`,
      );
    }
  } finally {
    ledger?.stop();
    violations.push(...(await cleanUp()));
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  violations.sort((a, b) => a.at - b.at);
  return { violations, schedule, injected, notes, interrupted, elapsedMs: Date.now() - started };

  async function inject(fault: Fault, m: AlpacaMock): Promise<void> {
    const target = fault.slot === undefined ? undefined : strategies[fault.slot];
    const upstream = { endpoint: UPSTREAM_PATH };
    switch (fault.kind) {
      case 'daemon-sigkill': {
        const status = await noteDaemon();
        if (status && isOurDaemon(status.daemon.pid, place)) process.kill(status.daemon.pid, 'SIGKILL');
        return;
      }
      case 'client-sigkill':
        if (!target) return;
        target.signal('SIGKILL', 'fault: client SIGKILL');
        await sleep(fault.holdMs);
        await spawnSlot(fault.slot as number, m);
        // A new life starts empty: give it a set like any strategy's first one.
        await churnOnce();
        return;
      case 'client-sigstop':
        if (!target) return;
        target.signal('SIGSTOP', 'fault: SIGSTOP');
        stopped.add(target);
        await sleep(fault.holdMs);
        target.signal('SIGCONT', 'fault: SIGCONT');
        stopped.delete(target);
        return;
      case 'slow-endpoint-reader': {
        if (!target) return;
        // The burst is quotes: make sure the reader wants some first.
        if (target.life.view.quotes.length === 0)
          await target.request(
            { op: 'change', action: 'subscribe', set: { quotes: [SYMBOLS[0]] } },
            ANSWER_TIMEOUT_MS,
          );
        target.tell({ op: 'stop-reading', ms: fault.holdMs });
        await sleep(200);
        // The feed alone is too slow to fill kernel buffers and the daemon's 64 KiB: a burst of the reader's own
        // symbols (about 10 MB: more than loopback socket buffers and the 64 KiB) makes it overrun, so the slow path (close it, tell it) is what is exercised.
        const burstAt = Date.now();
        const symbols = target.life.view.quotes;
        for (let frame = 0; frame < 16 && symbols.length > 0; frame++) {
          m.push(
            Array.from({ length: 1500 }, (_, k) =>
              burstQuote(symbols[k % symbols.length] as string, burstAt, frame * 1500 + k),
            ),
            upstream,
          );
          ledger?.stamp();
        }
        await sleep(fault.holdMs);
        return;
      }
      case 'upstream-abrupt-close':
        m.drop(upstream);
        return;
      case 'upstream-half-dead':
        m.stall(upstream);
        await sleep(fault.holdMs);
        m.resume({});
        return;
      case 'upstream-429-on-reconnect':
        m.refuseUpgrades(fault.holdMs);
        m.drop(upstream);
        await sleep(fault.holdMs);
        return;
      case 'upstream-406-on-reconnect':
        m.refuseAuth(406, fault.count ?? 1);
        m.drop(upstream);
        return;
      case 'upstream-402-on-reauth':
        m.refuseAuth(402, fault.count ?? 1);
        m.drop(upstream);
        return;
    }
  }

  /** Ends everything this run started, by pid, and says what was left behind. */
  async function cleanUp(): Promise<Violation[]> {
    const out: Violation[] = [];
    for (const s of stopped) s.signal('SIGCONT', 'cleanup');
    await Promise.all(strategies.map((s) => s?.stop()));
    const status = await noteDaemon();
    if (status && isOurDaemon(status.daemon.pid, place)) process.kill(status.daemon.pid, 'SIGTERM');
    await waitUntil(() => [...daemonPids].every((pid) => !isAlive(pid) || !isOurDaemon(pid, place)), 10_000);
    const lingering = [...daemonPids].filter((pid) => isAlive(pid) && isOurDaemon(pid, place));
    const leftProcesses = [
      ...lingering.map((pid) => `daemon ${pid}`),
      ...[...retired, ...strategies]
        .filter((s) => s && s.life.child.exitCode === null && s.life.child.signalCode === null)
        .map((s) => `strategy ${s?.life.pid}`),
      ...churnChildren.filter(isAlive).map((pid) => `churn client ${pid}`),
    ];
    for (const pid of lingering) process.kill(pid, 'SIGKILL');
    await mock?.close();
    const sockets = runtimeLeftovers(place);
    const segments = ringSegments(place);
    if (leftProcesses.length + sockets.length + segments.length > 0) {
      out.push({
        at: Date.now(),
        invariant: 'nothing left behind (processes, socket files, /dev/shm segments)',
        detail: [
          leftProcesses.length ? `processes: ${leftProcesses.join(', ')}` : '',
          sockets.length ? `in ${place.runtimeDir}: ${sockets.join(', ')}` : '',
          segments.length ? `/dev/shm: ${segments.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; '),
      });
    }
    const logPath = join(place.runtimeDir, `${place.namespace}.log`);
    if (options.keepLogAs && violations.length + out.length > 0 && existsSync(logPath)) {
      copyFileSync(logPath, options.keepLogAs);
      notes.push(`the daemon's log is kept in ${options.keepLogAs}`);
    }
    // Whatever the verdict, nothing of ours stays.
    for (const name of segments) rmSync(join('/dev/shm', name), { force: true });
    rmSync(place.runtimeDir, { recursive: true, force: true });
    return out;
  }
}

/**
 * connect/subscribe/close `cycles` times (four clients at once); the daemon's VmRSS and fd count after a warm-up and after the churn must
 * stay flat (fds: +2 at most; RSS: +16 MiB at most, room for the heap's own breathing).
 */
async function leakPhase(
  place: DaemonPlace,
  cycles: number,
  env: Record<string, string>,
  children: number[],
  log: (line: string) => void,
): Promise<Violation | undefined> {
  const status = await readStatus(place);
  if (!status) return { at: Date.now(), invariant: 'leak phase', detail: 'no daemon to measure' };
  const pid = status.daemon.pid;
  const runChurn = async (n: number): Promise<unknown> => {
    const child = fork(join(here, 'strategies', 'churn-client.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...env, CHAOS_CYCLES: String(n) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.push(child.pid as number);
    let detail: unknown;
    child.on('message', (r: Report) => {
      if (r.type === 'event') detail = r.detail;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(60_000, n * 300));
    await new Promise((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    return detail;
  };
  await runChurn(50);
  await sleep(1000);
  const before = footprint(pid);
  // Four churners at once: strategies come and go concurrently, and 1,000 cycles fit a CI step.
  const started = Date.now();
  const shares = [0, 1, 2, 3].map((k) => Math.floor(cycles / 4) + (k < cycles % 4 ? 1 : 0));
  const results = (await Promise.all(shares.map((n) => runChurn(n)))) as ({ cycles: number } | undefined)[];
  const done = results.every((r) => r !== undefined)
    ? { cycles: results.reduce((sum, r) => sum + (r?.cycles ?? 0), 0), ms: Date.now() - started }
    : undefined;
  await sleep(1000);
  const after = footprint(pid);
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  log(
    `leak phase: ${done ? `${done.cycles} cycles in ${(done.ms / 1000).toFixed(1)} s` : 'churn did not finish'}; daemon ${pid} RSS ${mib(before.rssBytes)} -> ${mib(after.rssBytes)} MiB, fds ${before.fds} -> ${after.fds}`,
  );
  if (!done)
    return {
      at: Date.now(),
      invariant: 'leak phase completes',
      detail: `the churn client did not finish ${cycles} cycles`,
    };
  if (after.fds > before.fds + 2 || after.rssBytes > before.rssBytes + 16 * 2 ** 20) {
    return {
      at: Date.now(),
      invariant: `daemon RSS and fds flat over ${cycles} client churn cycles`,
      detail: `RSS ${mib(before.rssBytes)} -> ${mib(after.rssBytes)} MiB, fds ${before.fds} -> ${after.fds}`,
    };
  }
  return undefined;
}

/** A quote with a unique timestamp (so its item key is unique) and padding, for the slow reader's burst. */
function burstQuote(symbol: string, at: number, n: number): Record<string, unknown> {
  const base = new Date(at).toISOString().slice(0, 19);
  return {
    T: 'q',
    S: symbol,
    bx: 'V',
    bp: 100,
    bs: 1,
    ax: 'V',
    ap: 100.01,
    as: 1,
    c: ['R'],
    z: 'C',
    // RFC3339Nano as Alpaca writes it (no trailing zeros), so a msgpack client decoding the timestamp sees this text.
    t: `${base}.${String(n + 1)
      .padStart(9, '0')
      .replace(/0+$/, '')}Z`,
    chaos: 'x'.repeat(300),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await sleep(50);
  }
  return predicate();
}
