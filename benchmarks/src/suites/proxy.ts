// Suite `proxy`: the product end to end — local upstream ws server -> wsproxy daemon -> K client processes —
// against the naive ws hub, plus the idle cost of the daemon and its clients and the daemon's memory.
import { closeAgents, spawnAgents } from '../harness/agent-pool.js';
import { interleave } from '../harness/interleave.js';
import type { ChartSeries } from '../harness/results.js';
import { summarize } from '../harness/stats.js';
import { fmtRate, type Suite, type SuiteContext } from '../harness/suite.js';
import type { TargetId } from '../targets.js';
import { naiveHubRoute, type ProxyRoute, type ProxyRun, runProxyRound } from './proxy-throughput.js';

const SUITE = 'proxy';
const KS = [1, 4, 8];

async function productRoute(_ctx: SuiteContext): Promise<ProxyRoute | string> {
  return '@wsproxy/proxy-server and @wsproxy/client have not landed yet';
}

async function throughput(
  ctx: SuiteContext,
  product: ProxyRoute | undefined,
  agents: Awaited<ReturnType<typeof spawnAgents>>,
) {
  const [upstream, hub, ...clients] = agents;
  const routes: ProxyRoute[] = [...(product ? [product] : []), naiveHubRoute(hub!)];
  const series = new Map<string, ChartSeries>(
    routes.map((r) => [r.name, { name: r.name, kind: r.kind, points: [] }]),
  );
  for (const k of KS) {
    if (ctx.budget.exhausted()) {
      ctx.rec.note(`${SUITE}: K=${k} skipped, the session's time budget ran out`);
      continue;
    }
    const caseName = `upstream -> K=${k} clients`;
    let runs: Map<string, ProxyRun[]>;
    try {
      runs = await interleave(
        routes.map((r) => ({
          name: r.name,
          run: () => runProxyRound(r, upstream!, clients.slice(0, k), ctx.params.throughputMs),
        })),
        { warmup: ctx.params.warmup, runs: ctx.params.runs, budget: ctx.budget },
      );
    } catch (err) {
      ctx.rec.error(SUITE, caseName, err);
      continue;
    }
    const hubRuns = runs.get('naive ws hub')!.map((r) => r.perClient);
    for (const route of routes) {
      const perClient = runs.get(route.name)!.map((r) => r.perClient);
      const isProduct = route.kind === 'product';
      const target: TargetId | undefined =
        isProduct && k === 4
          ? 'proxy.throughput.k4.vs-hub'
          : isProduct && k === 8
            ? 'proxy.throughput.k8.vs-hub'
            : undefined;
      ctx.rec.add({
        suite: SUITE,
        case: caseName,
        subject: route.name,
        metric: 'throughput per client',
        unit: 'msg/s',
        better: 'higher',
        samples: perClient,
        ...(isProduct ? { baseline: { name: 'naive ws hub', samples: hubRuns } } : {}),
        ...(target ? { target } : {}),
      });
      const { median } = summarize(perClient);
      series.get(route.name)!.points.push({ k, value: median });
      ctx.log(`${caseName} ${route.name}: ${fmtRate(median)} msg/s per client`);
    }
  }
  ctx.rec.chart({
    id: 'proxy-throughput',
    title: 'End-to-end throughput per client, 100-byte frames, vs K client processes',
    yLabel: 'msg/s per client',
    series: [...series.values()].filter((s) => s.points.length > 0),
  });
}

export const proxySuite: Suite = {
  name: SUITE,
  measures:
    'end to end: a local upstream ws server -> wsproxy daemon -> K client processes (K = 1, 4, 8), 100-byte ' +
    'binary frames, vs the naive ws hub (one upstream, re-sends every frame to each ws client); idle CPU of the ' +
    'daemon and its clients; daemon memory',
  unavailable: async () => undefined,
  async run(ctx) {
    const product = await productRoute(ctx);
    if (typeof product === 'string') ctx.rec.skip(SUITE, `product cases: ${product} (baseline only)`);
    const agents = await spawnAgents(2 + Math.max(...KS), 'proxy agent');
    try {
      await throughput(ctx, typeof product === 'string' ? undefined : product, agents);
    } finally {
      await closeAgents(agents);
    }
  },
};
