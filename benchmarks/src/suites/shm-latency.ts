// One-way latency of the BroadcastRing at fixed rates: the writer stamps each record with CLOCK_MONOTONIC
// (process.hrtime.bigint(), shared by every process of the machine) just before writing it, the reader subtracts
// on receipt. Block mode (doorbell wake-ups) and spin mode, against a Unix-socket reader blocked in epoll.
import type { Agent, AgentPool } from '../harness/agent-pool.js';
import { interleave } from '../harness/interleave.js';
import type { LatencyPercentiles } from '../harness/stats.js';
import type { SuiteContext } from '../harness/suite.js';
import type { TargetId } from '../targets.js';
import { segmentName } from './shm-queue-transports.js';

const SUITE = 'shm-queue';
const TIMEOUT_MS = 120_000;

type LatencyRun = LatencyPercentiles & { received: number };

async function ringRun(
  ctx: SuiteContext,
  writer: Agent,
  reader: Agent,
  idle: 'block' | 'spin',
  rate: number,
): Promise<LatencyRun> {
  const address = await writer.call('shm-ring', 'writerSetup', {
    name: segmentName(`lat-${idle}`),
    dir: ctx.dir,
    readers: 1,
    backPressure: false,
  });
  try {
    const latencySamples = Math.ceil((rate * ctx.params.latencyMs) / 1000) + 16;
    await reader.call('shm-ring', 'readerStart', { ...(address as object), idle, latencySamples });
    await writer.call('shm-ring', 'writerPaced', { rate, durationMs: ctx.params.latencyMs }, TIMEOUT_MS);
    return await reader.call<LatencyRun>('shm-ring', 'latencyFinish', {}, TIMEOUT_MS);
  } finally {
    await writer.call('shm-ring', 'writerTeardown', {});
  }
}

async function unixRun(ctx: SuiteContext, writer: Agent, reader: Agent, rate: number): Promise<LatencyRun> {
  const address = await writer.call('unix-fanout', 'writerSetup', { dir: ctx.dir, readers: 1 });
  try {
    const latencySamples = Math.ceil((rate * ctx.params.latencyMs) / 1000) + 16;
    await reader.call('unix-fanout', 'readerStart', { ...(address as object), latencySamples });
    await writer.call('unix-fanout', 'writerPaced', { rate, durationMs: ctx.params.latencyMs }, TIMEOUT_MS);
    return await reader.call<LatencyRun>('unix-fanout', 'latencyFinish', {}, TIMEOUT_MS);
  } finally {
    await writer.call('unix-fanout', 'writerTeardown', {});
  }
}

const TARGETS: Record<string, Partial<Record<'p50' | 'p99', TargetId>>> = {
  block: { p50: 'shm.latency.block.p50', p99: 'shm.latency.block.p99' },
  spin: { p50: 'shm.latency.spin.p50', p99: 'shm.latency.spin.p99' },
};

export async function runRingLatency(ctx: SuiteContext, pool: AgentPool): Promise<void> {
  for (const rate of ctx.params.latencyRates) {
    if (ctx.budget.exhausted()) {
      ctx.rec.note(`${SUITE}: latency at ${rate} msg/s skipped, the session's time budget ran out`);
      continue;
    }
    const caseName = `one-way latency at ${rate / 1000}k msg/s`;
    let runs: Map<string, LatencyRun[]>;
    try {
      const [writer, reader] = (await pool.range(0, 2)) as [Agent, Agent];
      runs = await interleave(
        [
          { name: 'block', run: () => ringRun(ctx, writer, reader, 'block', rate) },
          { name: 'spin', run: () => ringRun(ctx, writer, reader, 'spin', rate) },
          { name: 'unix', run: () => unixRun(ctx, writer, reader, rate) },
        ],
        { warmup: 0, runs: ctx.params.latencyRuns, budget: ctx.budget },
      );
    } catch (err) {
      ctx.rec.error(SUITE, caseName, err);
      continue;
    }
    const unix = runs.get('unix')!;
    for (const [pick, label] of [
      ['p50', 'p50'],
      ['p99', 'p99'],
      ['p999', 'p99.9'],
    ] as const) {
      for (const idle of ['block', 'spin'] as const) {
        const target = rate === 10_000 && pick !== 'p999' ? TARGETS[idle]![pick] : undefined;
        ctx.rec.add({
          suite: SUITE,
          case: caseName,
          subject: `shm ring (${idle})`,
          metric: `${label}`,
          unit: 'us',
          better: 'lower',
          samples: runs.get(idle)!.map((r) => r[pick]),
          baseline: { name: 'unix socket (epoll)', samples: unix.map((r) => r[pick]) },
          ...(target ? { target } : {}),
        });
      }
      ctx.rec.add({
        suite: SUITE,
        case: caseName,
        subject: 'unix-socket (baseline)',
        metric: `${label}`,
        unit: 'us',
        better: 'lower',
        samples: unix.map((r) => r[pick]),
      });
    }
    const samples = runs.get('block')![0]?.samples ?? 0;
    ctx.log(`${caseName}: ${samples} samples per run`);
  }
}
