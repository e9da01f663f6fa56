// Throughput of one writer to K reader processes, for every transport side by side (the product ring when it
// is available, and the baselines always), interleaved round by round.
import { unixSocketFanout, wsFanout } from '../baselines/transports.js';
import type { AgentPool } from '../harness/agent-pool.js';
import { type FanoutRun, type FanoutTransport, runFanoutRound } from '../harness/fanout.js';
import { interleave } from '../harness/interleave.js';
import type { ChartSeries } from '../harness/results.js';
import { summarize } from '../harness/stats.js';
import { fmtRate, type SuiteContext } from '../harness/suite.js';
import type { TargetId } from '../targets.js';

const SUITE = 'shm-queue';
const BATCH = 64;

/**
 * The first ring transport (if any) carries the targets; a ring in overwrite mode (the mode the daemon runs its
 * ring in) carries the K=4 target of its own, so the target the product depends on is the one stated. Pool slot 0
 * writes, slots 1..K read.
 */
export async function runFanoutThroughput(
  ctx: SuiteContext,
  rings: readonly FanoutTransport[],
  pool: AgentPool,
): Promise<void> {
  const unix = unixSocketFanout(ctx.dir);
  const transports: FanoutTransport[] = [...rings, unix, wsFanout('corked'), wsFanout('naive')];
  const primary = rings[0];
  const series = new Map<string, ChartSeries>(
    transports.map((t) => [t.name, { name: t.name, kind: t.kind, points: [] }]),
  );
  for (const k of ctx.params.ks) {
    if (ctx.budget.exhausted()) {
      ctx.rec.note(`${SUITE}: fan-out K=${k} skipped, the session's time budget ran out`);
      continue;
    }
    const caseName = `fan-out K=${k}`;
    let runs: Map<string, FanoutRun[]>;
    try {
      const [writer, ...active] = await pool.range(0, 1 + k);
      runs = await interleave(
        transports.map((t) => ({
          name: t.name,
          run: () =>
            runFanoutRound(t, writer!, active, { durationMs: ctx.params.throughputMs, batch: BATCH }),
        })),
        { warmup: ctx.params.warmup, runs: ctx.params.runs, budget: ctx.budget },
      );
    } catch (err) {
      ctx.rec.error(SUITE, caseName, err);
      continue;
    }
    const unixRuns = runs.get(unix.name)!.map((r) => r.perReader);
    for (const t of transports) {
      const samples = runs.get(t.name)!;
      const perReader = samples.map((r) => r.perReader);
      let target: TargetId | undefined;
      if (t === primary && k === 1) target = 'shm.throughput.k1';
      if (t === primary && k === 4) target = 'shm.throughput.k4.vs-unix';
      if (t !== primary && t.kind === 'product' && t.lossy && k === 4) {
        target = 'shm.throughput.k4.vs-unix.overwrite';
      }
      ctx.rec.add({
        suite: SUITE,
        case: caseName,
        subject: t.name,
        metric: 'throughput per reader',
        unit: 'msg/s',
        better: 'higher',
        samples: perReader,
        ...(t.kind === 'product' ? { baseline: { name: unix.name, samples: unixRuns } } : {}),
        ...(target ? { target } : {}),
      });
      if (t.lossy) {
        ctx.rec.add({
          suite: SUITE,
          case: caseName,
          subject: t.name,
          metric: 'delivered (the writer never waits; lapped readers skip)',
          unit: '%',
          better: 'higher',
          samples: samples.map((r) => r.delivered * 100),
        });
      }
      const { median } = summarize(perReader);
      series.get(t.name)!.points.push({ k, value: median });
      ctx.log(`${caseName} ${t.name}: ${fmtRate(median)} msg/s per reader`);
    }
  }
  ctx.rec.chart({
    id: 'fanout-throughput',
    title: 'Fan-out throughput per reader, 100-byte records, vs K reader processes',
    yLabel: 'msg/s per reader',
    series: [...series.values()].filter((s) => s.points.length > 0),
  });
}
