// Idle cost of the BroadcastRing: a reader in `block` mode with nothing to read must sleep on its doorbell and
// use no CPU; the writer side with nobody writing likewise. Measured from /proc, over a window with no data.
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type AgentPool } from '../harness/agent-pool.js';
import { startCpuWindow } from '../harness/proc-stats.js';
import type { SuiteContext } from '../harness/suite.js';
import { segmentName } from './shm-queue-transports.js';

const SUITE = 'shm-queue';
const SETTLE_FULL_MS = 12_000;
const SETTLE_QUICK_MS = 1_500;

export async function runRingIdle(ctx: SuiteContext, pool: AgentPool): Promise<void> {
  const windowMs = ctx.params.idleWindowMs;
  const writer = await pool.at(0);
  // A fresh reader process: one that just ran throughput rounds would spend the window in V8's idle-time GC,
  // which is the harness's garbage, not the ring's cost.
  const reader = await Agent.spawn({ label: 'idle reader' });
  let readerCpu: number | undefined;
  let writerCpu: number | undefined;
  try {
    const address = await writer.call('shm-ring', 'writerSetup', {
      name: segmentName('idle'),
      dir: ctx.dir,
      readers: 1,
      backPressure: false,
    });
    await reader.call('shm-ring', 'idleReaderStart', address);
    // Let start-up work settle before the window opens: module loading, JIT, the connection, and V8's memory
    // reducer, which runs a full GC in every fresh process ~8 s after start (measured: 2% of a 3 s window at
    // 6-9 s, then 0.0% for good). That one-off start-up GC is not what an idle reader costs, so the full run waits
    // it out; the quick smoke run cannot afford to and may show it.
    await sleep(ctx.mode === 'full' ? SETTLE_FULL_MS : SETTLE_QUICK_MS);
    const window = startCpuWindow([reader.pid, writer.pid]);
    await sleep(windowMs);
    const cpu = window.stop();
    readerCpu = cpu.get(reader.pid);
    writerCpu = cpu.get(writer.pid);
    await writer.call('shm-ring', 'writerEndOnly', {});
    await reader.call('shm-ring', 'readerFinish', {});
  } finally {
    await writer.call('shm-ring', 'writerTeardown', {});
    await reader.close();
  }
  const note =
    windowMs < 10_000 ? `measured over ${windowMs / 1000} s (quick mode; the full run uses 10 s)` : undefined;
  const base = {
    suite: SUITE,
    case: `idle, ${windowMs / 1000} s window`,
    unit: '%',
    better: 'lower',
  } as const;
  if (readerCpu !== undefined) {
    ctx.rec.add({
      ...base,
      subject: 'shm ring reader (block)',
      metric: 'CPU while idle (whole process)',
      samples: [readerCpu],
      target: 'shm.idle-cpu',
      ...(note ? { note } : {}),
    });
  }
  if (writerCpu !== undefined) {
    ctx.rec.add({
      ...base,
      subject: 'shm ring writer + doorbell server',
      metric: 'CPU while idle (whole process)',
      samples: [writerCpu],
      ...(note ? { note } : {}),
    });
  }
  if (readerCpu === undefined) ctx.rec.note(`${SUITE}: idle CPU not measured (no /proc on this platform)`);
}
