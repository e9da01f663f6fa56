// Suite `adapter`: routing throughput of the Alpaca adapter's router against the naive router, JSON and msgpack,
// interleaved in one agent process.
import { Agent } from '../harness/agent-pool.js';
import { interleave } from '../harness/interleave.js';
import type { Suite } from '../harness/suite.js';
import { loadAdapter } from './adapter-roles.js';

const SUITE = 'adapter';

export const adapterSuite: Suite = {
  name: SUITE,
  measures:
    'items routed per second: upstream frames of 10 Alpaca items (trades, quotes, 24 symbols) to 8 clients with ' +
    'overlapping subscriptions (sliding windows of 8 symbols, one client on trades "*"), product AlpacaRouter vs ' +
    'the naive router (parse / filter per client / serialise per client), JSON and msgpack',
  async unavailable() {
    const api = await loadAdapter();
    return typeof api === 'string' ? api : undefined;
  },
  async run(ctx) {
    const agent = await Agent.spawn({ label: 'adapter agent' });
    try {
      for (const encoding of ['json', 'msgpack'] as const) {
        const call = (kind: 'product' | 'naive') => () =>
          agent.call<number>(
            'adapter',
            'itemsPerSecond',
            { kind, encoding, ms: ctx.params.microMs },
            120_000,
          );
        const runs = await interleave(
          [
            { name: 'product', run: call('product') },
            { name: 'naive', run: call('naive') },
          ],
          { warmup: ctx.params.warmup, runs: ctx.params.runs, budget: ctx.budget },
        );
        const caseName = `${encoding} frames, 10 items, 8 clients`;
        const naive = runs.get('naive')!;
        ctx.rec.add({
          suite: SUITE,
          case: caseName,
          subject: 'naive router (baseline)',
          metric: 'routing throughput',
          unit: 'items/s',
          better: 'higher',
          samples: naive,
        });
        const row = {
          suite: SUITE,
          case: caseName,
          subject: '@wsproxy/alpaca-adapter AlpacaRouter',
          metric: 'routing throughput',
          unit: 'items/s',
          better: 'higher',
          samples: runs.get('product')!,
          baseline: { name: 'naive router', samples: naive },
        } as const;
        if (encoding === 'json') {
          // Two targets on the same measurement: one row each, so each shows met / not met on its own.
          ctx.rec.add({ ...row, target: 'adapter.vs-naive' });
          ctx.rec.add({ ...row, metric: 'routing throughput (absolute target)', target: 'adapter.items' });
        } else {
          ctx.rec.add(row);
        }
      }
    } finally {
      await agent.close();
    }
  },
};
