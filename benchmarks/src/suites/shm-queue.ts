// Suite `shm-queue`: the BroadcastRing against the transports a user would otherwise pick (Unix sockets, ws),
// plus its one-way latency and idle cost. The baselines run even before the ring lands, so the page always shows
// what the ring has to beat.
import type { Suite } from '../harness/suite.js';
import { runFanoutThroughput } from './fanout-throughput.js';

export const shmQueueSuite: Suite = {
  name: 'shm-queue',
  measures:
    'one writer to K reader processes (K = 1, 2, 4, 8), 100-byte records: BroadcastRing vs Unix-socket and ws ' +
    'fan-out; one-way latency at fixed rates in block and spin modes; idle CPU of a blocked reader',
  unavailable: async () => undefined,
  async run(ctx) {
    ctx.rec.skip('shm-queue', 'BroadcastRing cases: @wsproxy/shm-queue has not landed yet (baselines only)');
    await runFanoutThroughput(ctx, undefined);
  },
};
