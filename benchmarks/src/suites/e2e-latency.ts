// Suite `e2e-latency`: how much later does a frame reach a strategy through wsproxy than through its own
// WebSocket? A local upstream ws server stamps each 100-byte binary frame with CLOCK_MONOTONIC; K strategy
// processes either each hold a direct ws connection (the baseline: the upstream sends K times), or share one
// upstream connection through @wsproxy/client (idle `block`, `backoff`, `spin`). Contenders interleave round by
// round; per round a contender's p50 (p99) is the mean over its K strategies' p50s (p99s); the rows are medians
// over rounds.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Agent, AgentPool } from '../harness/agent-pool.js';
import { onCleanup } from '../harness/cleanup.js';
import { interleave } from '../harness/interleave.js';
import type { ChartSeries } from '../harness/results.js';
import { summarize } from '../harness/stats.js';
import type { Suite, SuiteContext } from '../harness/suite.js';
import type { TargetId } from '../targets.js';
import type { E2eLatencyRun, IdleMode, Pattern } from './e2e-latency-roles.js';
import { loadClient } from './proxy-api.js';

const SUITE = 'e2e-latency';
const TIMEOUT_MS = 90_000;
const IDLE_MODES: readonly IdleMode[] = ['block', 'backoff', 'spin'];
const DIRECT = 'direct ws';

/** One round's figures for one contender: means over its K strategies. */
interface RoundFigures {
  p50: number;
  p99: number;
  lost: number;
}

function patternName(p: Pattern): string {
  const rate = `${p.rate / 1000}k msg/s`;
  return p.burst === 1 ? `${rate} steady` : `${rate} in bursts of ${p.burst}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function figures(runs: readonly E2eLatencyRun[]): RoundFigures {
  return {
    p50: mean(runs.map((r) => r.p50)),
    p99: mean(runs.map((r) => r.p99)),
    lost: runs.reduce((a, r) => a + r.lost, 0),
  };
}

class LatencyBench {
  readonly namespace = `bench-lat-${process.pid}`;
  daemonPid: number | undefined;
  private disposeDaemon: (() => void) | undefined;

  constructor(
    private readonly ctx: SuiteContext,
    private readonly upstream: Agent,
    private readonly strategies: readonly Agent[],
  ) {}

  private samples(p: Pattern): number {
    return Math.ceil((p.rate * this.ctx.params.e2eLatencyMs) / 1000) + 64;
  }

  private async drive(p: Pattern): Promise<void> {
    await this.upstream.call(
      'e2e-latency',
      'upstreamPaced',
      { ...p, durationMs: this.ctx.params.e2eLatencyMs },
      TIMEOUT_MS,
    );
  }

  /** Strategies not in this case must not hold a (possibly spinning) client while others are measured. */
  async releaseAll(): Promise<void> {
    await Promise.all(this.strategies.map((s) => s.call('e2e-latency', 'proxyDisconnect', {})));
  }

  async direct(active: readonly Agent[], p: Pattern): Promise<RoundFigures> {
    await this.releaseAll();
    const { url } = await this.upstream.call<{ url: string }>('e2e-latency', 'upstreamSetup', {
      peers: active.length,
    });
    try {
      await Promise.all(
        active.map((s) => s.call('e2e-latency', 'directStart', { url, samples: this.samples(p) })),
      );
      await this.drive(p);
      return figures(
        await Promise.all(active.map((s) => s.call<E2eLatencyRun>('e2e-latency', 'finish', {}, TIMEOUT_MS))),
      );
    } finally {
      await this.upstream.call('e2e-latency', 'upstreamTeardown', {});
    }
  }

  async proxy(active: readonly Agent[], idle: IdleMode, p: Pattern): Promise<RoundFigures> {
    const connect = (s: Agent) =>
      s.call<{ daemonPid: number }>(
        'e2e-latency',
        'proxyConnect',
        {
          namespace: this.namespace,
          runtimeDir: this.ctx.dir,
          // Linger past the direct rounds (no client then) so the daemon is not respawned every round.
          daemonArgs: ['--linger', '120000', '--log-level', 'warn'],
          idle,
        },
        60_000,
      );
    // The first connect spawns the daemon; the others then find it.
    const [first, ...rest] = active;
    this.track((await connect(first!)).daemonPid);
    await Promise.all(rest.map(connect));
    const { url } = await this.upstream.call<{ url: string }>('e2e-latency', 'upstreamSetup', { peers: 1 });
    try {
      for (const s of active) {
        await s.call('e2e-latency', 'proxyStart', { url, samples: this.samples(p) }, 60_000);
      }
      await this.drive(p);
      return figures(
        await Promise.all(active.map((s) => s.call<E2eLatencyRun>('e2e-latency', 'finish', {}, TIMEOUT_MS))),
      );
    } finally {
      await this.upstream.call('e2e-latency', 'upstreamTeardown', {});
    }
  }

  private track(pid: number): void {
    if (this.daemonPid === pid) return;
    this.daemonPid = pid;
    this.disposeDaemon?.();
    // A daemon outliving the session would be a leak: kill it at exit whatever happens.
    this.disposeDaemon = onCleanup(() => {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
  }

  /** Disconnects every strategy and stops the daemon (SIGTERM: it closes upstreams and removes its segments). */
  async close(): Promise<void> {
    await this.releaseAll().catch(() => {});
    const pid = this.daemonPid;
    if (pid === undefined) return;
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    this.disposeDaemon?.();
  }
}

/** The acceptance targets are stated for 10k msg/s in bursts of 10 (the main case). */
function targetFor(p: Pattern, k: number, subject: string, pick: 'p50' | 'p99'): TargetId | undefined {
  if (p.rate !== 10_000 || p.burst !== 10) return undefined;
  if (subject === 'block' && pick === 'p99' && k === 4) return 'e2e.latency.block.p99.k4';
  if (subject === 'block' && pick === 'p99' && k === 8) return 'e2e.latency.block.p99.k8';
  if (subject === 'spin' && pick === 'p50' && k === 1) return 'e2e.latency.spin.p50.k1';
  return undefined;
}

function fmtUs(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export const e2eLatencySuite: Suite = {
  name: SUITE,
  measures:
    'one-way latency upstream -> strategy: a local ws server stamps each 100-byte binary frame with ' +
    'CLOCK_MONOTONIC; K strategy processes (K = 1, 4, 8) each hold a direct ws connection (baseline) or share ' +
    'one through @wsproxy/client (idle block / backoff / spin); steady and in bursts of 10, 1k and 10k msg/s; per ' +
    "round a contender's p50 / p99 is the mean over its K strategies, rows are medians over interleaved rounds",
  unavailable: async () => {
    const api = await loadClient();
    return typeof api === 'string' ? api : undefined;
  },
  async run(ctx) {
    const ks = ctx.params.e2eKs;
    const pool = await AgentPool.create(1 + Math.max(...ks), 'latency agent');
    const [upstream, ...strategies] = (await pool.range(0, pool.size)) as Agent[];
    const bench = new LatencyBench(ctx, upstream!, strategies);
    const chartPattern = ctx.params.e2ePatterns[ctx.params.e2ePatterns.length - 1]!;
    const series = new Map<string, ChartSeries>();
    const point = (name: string, kind: 'product' | 'baseline', k: number, value: number) => {
      if (!series.has(name)) series.set(name, { name, kind, points: [] });
      series.get(name)!.points.push({ k, value });
    };
    const tableRows: string[][] = [];
    let casesRun = 0;
    try {
      for (const p of ctx.params.e2ePatterns) {
        for (const k of ks) {
          const caseName = `${patternName(p)}, K=${k}`;
          // The first case always runs, so a quick run that reaches this suite late still exercises it.
          if (casesRun > 0 && ctx.budget.exhausted()) {
            ctx.rec.note(`${SUITE}: ${caseName} skipped, the session's time budget ran out`);
            continue;
          }
          const active = strategies.slice(0, k);
          casesRun++;
          let runs: Map<string, RoundFigures[]>;
          try {
            await bench.releaseAll();
            runs = await interleave(
              [
                { name: DIRECT, run: () => bench.direct(active, p) },
                ...IDLE_MODES.map((idle) => ({ name: idle, run: () => bench.proxy(active, idle, p) })),
              ],
              { warmup: ctx.params.warmup, runs: ctx.params.e2eRuns, budget: ctx.budget },
            );
          } catch (err) {
            ctx.rec.error(SUITE, caseName, err);
            continue;
          }
          const direct = runs.get(DIRECT)!;
          const cells = [caseName];
          for (const pick of ['p50', 'p99'] as const) {
            ctx.rec.add({
              suite: SUITE,
              case: caseName,
              subject: DIRECT,
              metric: pick,
              unit: 'us',
              better: 'lower',
              samples: direct.map((r) => r[pick]),
            });
          }
          cells.push(
            `${fmtUs(summarize(direct.map((r) => r.p50)).median)} / ${fmtUs(summarize(direct.map((r) => r.p99)).median)}`,
          );
          for (const idle of IDLE_MODES) {
            const mine = runs.get(idle)!;
            const subject = `wsproxy (${idle})`;
            for (const pick of ['p50', 'p99'] as const) {
              const target = targetFor(p, k, idle, pick);
              ctx.rec.add({
                suite: SUITE,
                case: caseName,
                subject,
                metric: pick,
                unit: 'us',
                better: 'lower',
                samples: mine.map((r) => r[pick]),
                baseline: { name: DIRECT, samples: direct.map((r) => r[pick]) },
                ...(target ? { target } : {}),
              });
            }
            // Paired by round (both ran in the same round, minutes apart at most), so machine drift cancels.
            const rounds = Math.min(mine.length, direct.length);
            const added = Array.from({ length: rounds }, (_, i) => mine[i]!.p50 - direct[i]!.p50);
            const addedTarget: TargetId | undefined =
              idle === 'block' && p.rate === 10_000 && p.burst === 10 && (k === 1 || k === 4)
                ? k === 1
                  ? 'e2e.latency.block.p50-added.k1'
                  : 'e2e.latency.block.p50-added.k4'
                : undefined;
            ctx.rec.add({
              suite: SUITE,
              case: caseName,
              subject,
              metric: 'p50 added over direct (paired by round)',
              unit: 'us',
              better: 'lower',
              samples: added,
              ...(addedTarget ? { target: addedTarget } : {}),
            });
            const lost = mine.reduce((a, r) => a + r.lost, 0);
            if (lost > 0)
              ctx.rec.note(`${SUITE}: ${caseName} ${subject}: ${lost} frames reported lost (gaps)`);
            const p50 = summarize(mine.map((r) => r.p50)).median;
            const p99 = summarize(mine.map((r) => r.p99)).median;
            cells.push(`${fmtUs(p50)} / ${fmtUs(p99)}`);
            if (p === chartPattern) {
              point(`${subject} p50`, 'product', k, p50);
              point(`${subject} p99`, 'product', k, p99);
            }
          }
          if (k === 8 && p === chartPattern) {
            const block = runs.get('block')!.map((r) => r.p99);
            ctx.rec.add({
              suite: SUITE,
              case: caseName,
              subject: 'wsproxy (spin)',
              metric: 'p99 vs block',
              unit: 'us',
              better: 'lower',
              samples: runs.get('spin')!.map((r) => r.p99),
              baseline: { name: 'wsproxy (block)', samples: block },
              target: 'e2e.latency.spin-vs-block.p99.k8',
            });
          }
          if (p === chartPattern) {
            point(`${DIRECT} p50`, 'baseline', k, summarize(direct.map((r) => r.p50)).median);
            point(`${DIRECT} p99`, 'baseline', k, summarize(direct.map((r) => r.p99)).median);
          }
          tableRows.push(cells);
          ctx.log(
            `${caseName}: ${cells.slice(1).join(' | ')} (direct | block | backoff | spin, p50 / p99 us)`,
          );
        }
      }
    } finally {
      await bench.close();
      await pool.close();
    }
    ctx.rec.table({
      id: 'e2e-latency',
      title: 'End-to-end latency, upstream -> strategy (us, p50 / p99, medians over interleaved rounds)',
      header: ['rate, K', 'direct ws', 'wsproxy block', 'wsproxy backoff', 'wsproxy spin'],
      rows: tableRows,
    });
    ctx.rec.chart({
      id: 'e2e-latency',
      title: `End-to-end latency p50 / p99 vs K, ${patternName(chartPattern)}`,
      yLabel: 'us',
      series: [...series.values()].filter((s) => s.points.length > 0),
    });
  },
};
