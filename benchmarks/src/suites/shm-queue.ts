// Suite `shm-queue`: the BroadcastRing against the transports a user would otherwise pick (Unix sockets, ws),
// plus its one-way latency, its idle cost, and the physical floor of cross-process hand-off. The baselines run
// even when the ring is not available, so the page always shows what the ring has to beat.
import { Agent, AgentPool, closeAgents } from '../harness/agent-pool.js';
import { removeShmSegments } from '../harness/cleanup.js';
import type { Suite, SuiteContext } from '../harness/suite.js';
import { runFanoutThroughput } from './fanout-throughput.js';
import { runRingIdle } from './shm-idle.js';
import { runRingLatency } from './shm-latency.js';
import { loadShmQueue } from './shm-queue-api.js';
import { ringFanout, segmentName, segmentPrefix } from './shm-queue-transports.js';

const SUITE = 'shm-queue';

async function crossProcessPingPong(ctx: SuiteContext): Promise<void> {
  const [owner, echo] = await Promise.all([
    Agent.spawn({ label: 'ping-pong owner' }),
    Agent.spawn({ label: 'ping-pong echo' }),
  ]);
  try {
    const samples: number[] = [];
    for (let i = 0; i < ctx.params.runs; i++) {
      const name = segmentName('pingpong');
      const echoing = echo.call('shm-ring', 'pingPongEcho', { name }, 150_000);
      const roundTrips = ctx.mode === 'quick' ? 50_000 : 300_000;
      samples.push(await owner.call<number>('shm-ring', 'pingPongOwner', { name, roundTrips }, 120_000));
      await echoing;
    }
    ctx.rec.add({
      suite: SUITE,
      case: 'floor',
      subject: 'this machine',
      metric: 'busy-spin ping-pong, one-way (two processes, one shm segment)',
      unit: 'us',
      better: 'lower',
      samples,
    });
  } finally {
    await closeAgents([owner, echo]);
  }
}

export const shmQueueSuite: Suite = {
  name: SUITE,
  measures:
    'one writer to K reader processes (K = 1, 2, 4, 8), 100-byte records, as fast as each transport takes them ' +
    'for a fixed time: BroadcastRing (back-pressure and overwrite) vs Unix-socket fan-out and ws hub; one-way ' +
    'latency (writer stamps CLOCK_MONOTONIC, reader subtracts) at fixed rates, block and spin, vs a Unix socket; ' +
    'idle CPU of a blocked reader; the busy-spin floor between two processes',
  unavailable: async () => undefined,
  async run(ctx) {
    const api = await loadShmQueue();
    const ringAvailable = typeof api !== 'string';
    if (!ringAvailable) ctx.rec.skip(SUITE, `BroadcastRing cases: ${api} (baselines only)`);
    const pool = await AgentPool.create(1 + Math.max(...ctx.params.ks), 'shm-queue agent');
    try {
      const rings = ringAvailable ? [ringFanout(ctx.dir, true), ringFanout(ctx.dir, false)] : [];
      await runFanoutThroughput(ctx, rings, pool);
      if (!ringAvailable) return;
      await runRingLatency(ctx, pool);
      try {
        await runRingIdle(ctx, pool);
      } catch (err) {
        ctx.rec.error(SUITE, 'idle CPU', err);
      }
    } finally {
      await pool.close();
      // Agents unlink their segments; this only catches what a killed agent could not.
      const leaked = removeShmSegments(segmentPrefix());
      if (leaked > 0)
        ctx.rec.note(`${SUITE}: removed ${leaked} shared-memory segment(s) a failed run left behind`);
    }
    try {
      await crossProcessPingPong(ctx);
    } catch (err) {
      ctx.rec.error(SUITE, 'floor: cross-process ping-pong', err);
    }
  },
};
