// Suite `metrics`: what `/metrics` costs while the daemon routes at full rate. The same daemon and clients run
// rounds with and without a scraper fetching /metrics every second (interleaved), so the ratio is the scrape's
// cost on throughput; the scrape times are recorded too.
import { createServer } from 'node:net';
import { AgentPool } from '../harness/agent-pool.js';
import { interleave } from '../harness/interleave.js';
import { summarize } from '../harness/stats.js';
import { fmtRate, type Suite } from '../harness/suite.js';
import { loadClient } from './proxy-api.js';
import { ProductSession } from './proxy-product.js';
import { type ProxyRoute, runProxyRound } from './proxy-throughput.js';

const SUITE = 'metrics';
const K = 4;
const SCRAPE_EVERY_MS = 1000;
const FIRST_SCRAPE_MS = 100;

/** A loopback port free right now: the daemon is spawned by a client, so its --metrics port is chosen here. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The product route, plus a scraper running from connect to finish; every scrape's duration lands in `times`. */
function scraped(route: ProxyRoute, url: string, times: number[]): ProxyRoute {
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const scrapeOnce = async () => {
    const started = performance.now();
    const response = await fetch(url);
    await response.text();
    if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
    times.push(performance.now() - started);
  };
  return {
    ...route,
    name: 'wsproxy, /metrics scraped every second',
    async connect(upstreamUrl, clients) {
      await route.connect(upstreamUrl, clients);
      // The first scrape soon after the upstream starts writing (rounds may be shorter than a second), then one
      // every second, as a Prometheus with a 1 s interval would.
      const tick = () => {
        inFlight = scrapeOnce();
        timer = setTimeout(tick, SCRAPE_EVERY_MS);
      };
      timer = setTimeout(tick, FIRST_SCRAPE_MS);
    },
    async finish(clients) {
      const tallies = await route.finish(clients);
      clearTimeout(timer);
      await inFlight;
      return tallies;
    },
  };
}

export const metricsSuite: Suite = {
  name: SUITE,
  measures:
    `the cost of \`wsproxy start --metrics\`: throughput per client (K = ${K}, 100-byte frames) with /metrics ` +
    'scraped every second vs not scraped, same daemon, rounds interleaved; and the time one scrape takes while ' +
    'routing at full rate',
  unavailable: async () => undefined,
  async run(ctx) {
    const api = await loadClient();
    if (typeof api === 'string') {
      ctx.rec.skip(SUITE, api);
      return;
    }
    const port = await freePort();
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const pool = await AgentPool.create(1 + K, 'metrics agent');
    const session = new ProductSession(ctx.dir, {
      namespaceSuffix: '-metrics',
      daemonArgs: ['--metrics', `127.0.0.1:${port}`],
    });
    const caseName = `upstream -> K=${K} clients, /metrics every ${SCRAPE_EVERY_MS / 1000} s`;
    try {
      const [upstream, ...clients] = await pool.range(0, 1 + K);
      await session.connectExactly(clients);
      const plain = { ...session.route(), name: 'wsproxy, not scraped' };
      const scrapeTimes: number[] = [];
      const withScrapes = scraped(session.route(), metricsUrl, scrapeTimes);
      const runs = await interleave(
        [plain, withScrapes].map((route) => ({
          name: route.name,
          run: () => runProxyRound(route, upstream!, clients, ctx.params.throughputMs),
        })),
        { warmup: ctx.params.warmup, runs: ctx.params.runs, budget: ctx.budget },
      );
      const base = runs.get(plain.name)!.map((r) => r.perClient);
      const scrapedRuns = runs.get(withScrapes.name)!.map((r) => r.perClient);
      ctx.rec.add({
        suite: SUITE,
        case: caseName,
        subject: withScrapes.name,
        metric: 'throughput per client',
        unit: 'msg/s',
        better: 'higher',
        samples: scrapedRuns,
        baseline: { name: plain.name, samples: base },
        target: 'metrics.scrape.throughput-ratio',
      });
      if (scrapeTimes.length > 0) {
        ctx.rec.add({
          suite: SUITE,
          case: caseName,
          subject: 'GET /metrics',
          metric: 'scrape time while routing',
          unit: 'ms',
          better: 'lower',
          samples: scrapeTimes,
        });
      }
      ctx.log(
        `${caseName}: ${fmtRate(summarize(scrapedRuns).median)} vs ${fmtRate(summarize(base).median)} msg/s per client`,
      );
    } catch (err) {
      ctx.rec.error(SUITE, caseName, err);
    } finally {
      await session.close();
      await pool.close();
    }
  },
};
