// Suite `floors`: what the hardware allows, measured the same session as everything else, so every product number
// can be read against the physical limit (a codec cannot decode faster than memory copies a record; a ring
// cannot deliver a record faster than one cache-line hand-off between cores).
import { Agent } from '../harness/agent-pool.js';
import type { Suite } from '../harness/suite.js';

const SUITE = 'floors';

export const floorsSuite: Suite = {
  name: SUITE,
  measures:
    'physical floors: memcpy rate of 100-byte records and of 1 MiB blocks (Buffer.copy); busy-spin ping-pong ' +
    'between two threads over shared memory (one-way = round trip / 2)',
  unavailable: async () => undefined,
  async run(ctx) {
    const agent = await Agent.spawn({ label: 'floors agent' });
    try {
      const records: number[] = [];
      const bandwidth: number[] = [];
      const pingPong: number[] = [];
      const rounds = ctx.params.warmup + ctx.params.runs;
      for (let i = 0; i < rounds; i++) {
        const measured = i >= ctx.params.warmup;
        const a = await agent.call<number>('micro', 'memcpyRecords', { ms: ctx.params.microMs });
        const b = await agent.call<number>('micro', 'memcpyBandwidth', { ms: ctx.params.microMs });
        const c = await agent.call<number>('micro', 'spinPingPong', {
          roundTrips: ctx.mode === 'quick' ? 50_000 : 300_000,
        });
        if (measured) {
          records.push(a);
          bandwidth.push(b / 1e9);
          pingPong.push(c);
        }
      }
      const base = { suite: SUITE, case: 'floor', subject: 'this machine' } as const;
      ctx.rec.add({
        ...base,
        metric: 'memcpy of a 100-byte record',
        unit: 'rec/s',
        better: 'higher',
        samples: records,
      });
      ctx.rec.add({
        ...base,
        metric: 'memcpy bandwidth (1 MiB blocks)',
        unit: 'GB/s',
        better: 'higher',
        samples: bandwidth,
      });
      ctx.rec.add({
        ...base,
        metric: 'busy-spin ping-pong, one-way (threads, SharedArrayBuffer)',
        unit: 'us',
        better: 'lower',
        samples: pingPong,
      });
    } finally {
      await agent.close();
    }
  },
};
