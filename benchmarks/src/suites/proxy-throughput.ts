// End-to-end fan-out of one upstream WebSocket to K client processes: a local upstream ws server -> (wsproxy
// daemon | naive ws hub) -> K clients, 100-byte binary frames, product and hub interleaved round by round.
import type { Agent } from '../harness/agent-pool.js';
import type { TallySummary, WriterSummary } from '../harness/records.js';

const RUN_TIMEOUT_MS = 90_000;

/** One way of getting the upstream's frames to K client agents. */
export interface ProxyRoute {
  name: string;
  kind: 'product' | 'baseline';
  /** May a client that falls a whole ring behind lose frames (counted)? The hub may not. */
  lossy: boolean;
  /** Connects the K clients (through the hub or the daemon) to the upstream at `upstreamUrl`. */
  connect(upstreamUrl: string, clients: readonly Agent[]): Promise<void>;
  finish(clients: readonly Agent[]): Promise<TallySummary[]>;
  teardown(clients: readonly Agent[]): Promise<void>;
}

export interface ProxyRun {
  perClient: number;
  total: number;
  /** Received / sent, mean over clients. */
  delivered: number;
}

export class ProxyIntegrityError extends Error {
  override name = 'ProxyIntegrityError';
  readonly code = 'BENCH_ERR_INTEGRITY';
}

/**
 * A ws hub (naive: one send per frame per client; corked: sends batched per event-loop turn) in its own agent,
 * its clients plain ws readers. `hub` returns the hub's current agent (the pool may have replaced a broken one).
 */
export function hubRoute(hub: () => Agent, mode: 'naive' | 'corked'): ProxyRoute {
  return {
    name: `${mode} ws hub`,
    kind: 'baseline',
    lossy: false,
    async connect(upstreamUrl, clients) {
      const { url } = await hub().call<{ url: string }>('ws-relay-hub', 'relaySetup', {
        upstreamUrl,
        clients: clients.length,
        mode,
      });
      await Promise.all(clients.map((c) => c.call('ws-fanout', 'readerStart', { url })));
    },
    finish: (clients) =>
      Promise.all(clients.map((c) => c.call<TallySummary>('ws-fanout', 'readerFinish', {}, RUN_TIMEOUT_MS))),
    teardown: async () => {
      await hub().call('ws-relay-hub', 'relayTeardown', {});
    },
  };
}

/** One round: fresh upstream server, route connected, upstream writes for `durationMs`, clients count. */
export async function runProxyRound(
  route: ProxyRoute,
  upstream: Agent,
  clients: readonly Agent[],
  durationMs: number,
): Promise<ProxyRun> {
  // The upstream is a ws server with exactly one peer: whoever shares it (hub or daemon).
  const { url } = await upstream.call<{ url: string }>('ws-fanout', 'hubSetup', {
    readers: 1,
    mode: 'corked',
  });
  try {
    await route.connect(url, clients);
    const wrote = await upstream.call<WriterSummary>(
      'ws-fanout',
      'hubGo',
      { durationMs, batch: 32 },
      RUN_TIMEOUT_MS,
    );
    const got = await route.finish(clients);
    let delivered = 0;
    const rates = got.map((tally, i) => {
      const lost = tally.missing > 0 || tally.received !== wrote.sent;
      if (!tally.ended || tally.backwards > 0 || (lost && !route.lossy)) {
        throw new ProxyIntegrityError(
          `${route.name}: client ${i} received ${tally.received} of ${wrote.sent} frames ` +
            `(${tally.missing} missing, ${tally.backwards} out of order${tally.ended ? '' : ', no end marker'})`,
        );
      }
      delivered += wrote.sent > 0 ? tally.received / wrote.sent : 0;
      return tally.received / (Number(tally.lastNs - wrote.startNs) / 1e9);
    });
    const total = rates.reduce((a, b) => a + b, 0);
    await route.teardown(clients);
    await upstream.call('ws-fanout', 'hubTeardown', {});
    return { perClient: total / rates.length, total, delivered: delivered / got.length };
  } catch (err) {
    // Report what broke first, not a teardown failing after it.
    await route.teardown(clients).catch(() => {});
    await upstream.call('ws-fanout', 'hubTeardown', {}).catch(() => {});
    throw err;
  }
}
