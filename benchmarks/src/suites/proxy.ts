// Suite `proxy`: the product end to end — local upstream ws server -> wsproxy daemon -> K client processes —
// against the naive and the corked ws hub, plus the idle cost of the daemon and its clients and the daemon's memory.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Agent, AgentPool } from '../harness/agent-pool.js';
import { interleave } from '../harness/interleave.js';
import { peakRssBytes, rssBreakdown, rssBytes, startCpuWindow } from '../harness/proc-stats.js';
import type { ChartSeries } from '../harness/results.js';
import { summarize } from '../harness/stats.js';
import { fmtRate, type Suite, type SuiteContext } from '../harness/suite.js';
import type { TargetId } from '../targets.js';
import { loadClient } from './proxy-api.js';
import { ProductSession } from './proxy-product.js';
import { hubRoute, type ProxyRoute, type ProxyRun, runProxyRound } from './proxy-throughput.js';

const SUITE = 'proxy';
const KS = [1, 4, 8];
const IDLE_CLIENTS = 4;

/** Pool slot 0 is the upstream server, slot 1 the hub, slots 2.. the clients. */
async function throughput(
  ctx: SuiteContext,
  session: ProductSession | undefined,
  pool: AgentPool,
): Promise<void> {
  const product = session?.route();
  let hub = await pool.at(1);
  const naiveHub = hubRoute(() => hub, 'naive');
  const corkedHub = hubRoute(() => hub, 'corked');
  const routes: ProxyRoute[] = [...(product ? [product] : []), naiveHub, corkedHub];
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
      const [upstream, hubAgent, ...active] = (await pool.range(0, 2 + k)) as Agent[];
      hub = hubAgent!;
      // The product's clients stay connected through the case (a strategy connects once); the hub's are ws
      // clients in the same agents, connected per round.
      await session?.connectExactly(active);
      runs = await interleave(
        routes.map((r) => ({
          name: r.name,
          run: () => runProxyRound(r, upstream!, active, ctx.params.throughputMs),
        })),
        { warmup: ctx.params.warmup, runs: ctx.params.runs, budget: ctx.budget },
      );
    } catch (err) {
      ctx.rec.error(SUITE, caseName, err);
      continue;
    }
    const hubRuns = runs.get(naiveHub.name)!.map((r) => r.perClient);
    const corkedRuns = runs.get(corkedHub.name)!.map((r) => r.perClient);
    for (const route of routes) {
      const samples = runs.get(route.name)!;
      const perClient = samples.map((r) => r.perClient);
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
        ...(isProduct ? { baseline: { name: naiveHub.name, samples: hubRuns } } : {}),
        ...(target ? { target } : {}),
      });
      if (isProduct) {
        // The hub a careful engineer would write is the fairer comparison; it gets a row (and targets) of its own.
        const corkedTarget: TargetId | undefined =
          k === 4
            ? 'proxy.throughput.k4.vs-corked-hub'
            : k === 8
              ? 'proxy.throughput.k8.vs-corked-hub'
              : undefined;
        ctx.rec.add({
          suite: SUITE,
          case: caseName,
          subject: route.name,
          metric: 'throughput per client vs the corked hub',
          unit: 'msg/s',
          better: 'higher',
          samples: perClient,
          baseline: { name: corkedHub.name, samples: corkedRuns },
          ...(corkedTarget ? { target: corkedTarget } : {}),
        });
      }
      if (route.lossy) {
        ctx.rec.add({
          suite: SUITE,
          case: caseName,
          subject: route.name,
          metric: 'delivered (a client a whole ring behind skips and gets a gap event)',
          unit: '%',
          better: 'higher',
          samples: samples.map((r) => r.delivered * 100),
        });
      }
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

/** Daemon + clients with an open upstream and no data flowing: nothing may poll. */
async function idleCost(ctx: SuiteContext, session: ProductSession, pool: AgentPool) {
  const upstream = await pool.at(0);
  const active = await pool.range(2, 2 + IDLE_CLIENTS);
  await session.connectExactly(active);
  const daemonPid = session.daemonPid!;
  const windowMs = ctx.params.idleWindowMs;
  const { url } = await upstream.call<{ url: string }>('ws-fanout', 'hubSetup', {
    readers: 1,
    mode: 'corked',
  });
  let cpu: Map<number, number | undefined>;
  try {
    await Promise.all(active.map((c) => c.call('proxy', 'clientOpen', { url }, 60_000)));
    // Let the open settle (and V8's idle-time GC of the throughput cases' garbage run) before the window opens.
    await sleep(1500);
    const window = startCpuWindow([daemonPid, ...active.map((c) => c.pid)]);
    await sleep(windowMs);
    cpu = window.stop();
    // End the idle socket the normal way: the upstream sends its end marker.
    await upstream.call('ws-fanout', 'hubGo', { durationMs: 0, batch: 1 });
    await Promise.all(active.map((c) => c.call('proxy', 'clientFinish', {}, 60_000)));
  } finally {
    await upstream.call('ws-fanout', 'hubTeardown', {});
  }
  const note =
    windowMs < 10_000 ? `measured over ${windowMs / 1000} s (quick mode; the full run uses 10 s)` : undefined;
  const caseName = `idle: upstream open, no data, ${IDLE_CLIENTS} clients, ${windowMs / 1000} s`;
  const daemonCpu = cpu.get(daemonPid);
  if (daemonCpu !== undefined) {
    ctx.rec.add({
      suite: SUITE,
      case: caseName,
      subject: 'wsproxy daemon',
      metric: 'CPU while idle',
      unit: '%',
      better: 'lower',
      samples: [daemonCpu],
      target: 'proxy.idle-cpu.daemon',
      ...(note ? { note } : {}),
    });
  }
  const clientCpu = active.map((c) => cpu.get(c.pid)).filter((v): v is number => v !== undefined);
  if (clientCpu.length > 0) {
    ctx.rec.add({
      suite: SUITE,
      case: caseName,
      subject: '@wsproxy/client processes',
      metric: 'CPU while idle, worst client',
      unit: '%',
      better: 'lower',
      samples: [Math.max(...clientCpu)],
      target: 'proxy.idle-cpu.clients',
      ...(note ? { note } : {}),
    });
  }
}

function daemonMemory(ctx: SuiteContext, session: ProductSession): void {
  const pid = session.daemonPid;
  if (pid === undefined) return;
  const rss = rssBytes(pid);
  const peak = peakRssBytes(pid);
  const base = {
    suite: SUITE,
    case: 'daemon memory after the throughput cases',
    subject: 'wsproxy daemon',
  } as const;
  if (rss !== undefined) {
    ctx.rec.add({ ...base, metric: 'RSS', unit: 'MiB', better: 'lower', samples: [rss / 2 ** 20] });
  }
  // 95 MiB of RSS says little by itself: split it into the daemon's own memory, the ring and the node binary.
  const parts = rssBreakdown(pid);
  for (const [part, label] of [
    ['anon', 'RSS: own memory (RssAnon: JS heap, V8, libuv, malloc)'],
    ['shmem', 'RSS: shared memory touched (RssShmem: the ring)'],
    ['file', 'RSS: mapped files (RssFile: the node binary, shared with every node process)'],
  ] as const) {
    const bytes = parts[part];
    if (bytes !== undefined) {
      ctx.rec.add({ ...base, metric: label, unit: 'MiB', better: 'lower', samples: [bytes / 2 ** 20] });
    }
  }
  if (peak !== undefined) {
    ctx.rec.add({
      ...base,
      metric: 'peak RSS (VmHWM)',
      unit: 'MiB',
      better: 'lower',
      samples: [peak / 2 ** 20],
    });
  }
  ctx.rec.note(
    `${SUITE}: daemon heap not measured — \`wsproxy status\` does not report it and the daemon cannot be ` +
      'inspected from outside; RSS (from /proc) is reported instead',
  );
}

export const proxySuite: Suite = {
  name: SUITE,
  measures:
    'end to end: a local upstream ws server -> wsproxy daemon -> K client processes (K = 1, 4, 8), 100-byte ' +
    'binary frames, vs the naive ws hub (one upstream, re-sends every frame to each ws client) and the corked ws ' +
    'hub (the same, sends batched per event-loop turn in corked sockets); idle CPU of the ' +
    'daemon and its clients with an open upstream and no data; daemon memory (RSS from /proc; the shared ring ' +
    'is mapped memory and counts once it is touched)',
  unavailable: async () => undefined,
  async run(ctx) {
    const api = await loadClient();
    const productAvailable = typeof api !== 'string';
    if (!productAvailable) ctx.rec.skip(SUITE, `product cases: ${api} (baseline only)`);
    const pool = await AgentPool.create(2 + Math.max(...KS), 'proxy agent');
    const session = productAvailable ? new ProductSession(ctx.dir) : undefined;
    try {
      await throughput(ctx, session, pool);
      if (session && session.daemonPid !== undefined) {
        daemonMemory(ctx, session);
        if (!ctx.budget.exhausted()) {
          try {
            await idleCost(ctx, session, pool);
          } catch (err) {
            ctx.rec.error(SUITE, 'idle cost', err);
          }
        } else {
          ctx.rec.note(`${SUITE}: idle CPU skipped, the session's time budget ran out`);
        }
      }
    } finally {
      await session?.close();
      await pool.close();
    }
  },
};
