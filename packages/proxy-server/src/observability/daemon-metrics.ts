// The daemon's Prometheus metrics. Nothing here is counted on the data path: every figure is read at scrape time
// from the same status report `wsproxy status` prints (one report per scrape), so a daemon routing at full rate
// pays for metrics only when it is scraped.
//
// Labels are bounded: an upstream is `connection` (its daemon id), `url` (the display URL, no secrets) and
// `adapter`; a client is `client` (its daemon id) and `pid`; a channel is the vendor's channel name. Symbols, client
// names and anything else a peer chooses never become label values.

import type { DaemonStatus, UpstreamStatus } from '@wsproxy/protocol';
import type * as PromClientModule from 'prom-client';

export type PromClient = typeof PromClientModule;
type Prom = PromClient;

/** prom-client, loaded only by a daemon asked for metrics. */
export function loadPromClient(): Promise<PromClient> {
  return import('prom-client');
}
type Labels = Record<string, string | number>;
type Fill = (set: (labels: Labels, value: number) => void) => void;
/** Declares a metric whose series `fill` rebuilds from the status report on every scrape. */
type Declare = (name: string, help: string, labelNames: readonly string[], fill: Fill) => unknown;

/** Every state an upstream can be in: `wsproxy_upstream_state` has one series per state, 1 for the current one. */
const UPSTREAM_STATES: readonly UpstreamStatus['state'][] = [
  'connecting',
  'authenticating',
  'open',
  'reconnecting',
  'closing',
  'closed',
];

const UPSTREAM_LABELS = ['connection', 'url', 'adapter'] as const;
const CLIENT_LABELS = ['client', 'pid'] as const;

function upstreamLabels(upstream: UpstreamStatus): Labels {
  return { connection: upstream.connectionId, url: upstream.url, adapter: upstream.adapter };
}

export interface DaemonMetrics {
  readonly contentType: string;
  /** The exposition text, from a status report taken now. */
  scrape(): Promise<string>;
}

/**
 * Builds the registry. `prom` is the loaded prom-client module (loaded lazily by the caller: a daemon without
 * `--metrics` never loads it); `source` is the daemon's status report.
 */
export function createDaemonMetrics(prom: Prom, source: () => DaemonStatus): DaemonMetrics {
  const registry = new prom.Registry();
  // The event-loop lag monitor samples on a timer: once a second keeps a daemon with metrics on nearly idle.
  prom.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });

  let status: DaemonStatus = source();

  /** A gauge whose series are rebuilt from the current report on every scrape (gone things disappear). */
  const gauge: Declare = (name, help, labelNames, fill) =>
    new prom.Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill((labels, value) => this.set(labels, value));
      },
    });
  /** A counter mirroring a total the daemon already keeps. */
  const counter: Declare = (name, help, labelNames, fill) =>
    new prom.Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill((labels, value) => this.inc(labels, Math.max(0, value)));
      },
    });
  /** A gauge or counter with one series per upstream, read from its status (no series where `value` has none). */
  const perUpstream = (
    declare: Declare,
    name: string,
    help: string,
    value: (u: UpstreamStatus) => number | undefined | null,
  ) =>
    declare(name, help, UPSTREAM_LABELS, (set) => {
      for (const upstream of status.upstreams) {
        const v = value(upstream);
        if (v !== undefined && v !== null) set(upstreamLabels(upstream), v);
      }
    });
  /** The same, one series per client. */
  const perClient = (
    declare: Declare,
    name: string,
    help: string,
    value: (c: DaemonStatus['clients'][number]) => number | undefined,
  ) =>
    declare(name, help, CLIENT_LABELS, (set) => {
      for (const client of status.clients) {
        const v = value(client);
        if (v !== undefined) set({ client: client.clientId, pid: client.pid }, v);
      }
    });

  gauge(
    'wsproxy_daemon_info',
    'The daemon: version and protocol version (always 1).',
    ['version', 'protocol'],
    (set) => set({ version: status.daemon.version, protocol: status.daemon.protocolVersion }, 1),
  );

  // ---- upstreams ----
  gauge(
    'wsproxy_upstream_state',
    'Upstream connection state: 1 for the current state, 0 for the others.',
    [...UPSTREAM_LABELS, 'state'],
    (set) => {
      for (const upstream of status.upstreams) {
        for (const state of UPSTREAM_STATES)
          set({ ...upstreamLabels(upstream), state }, upstream.state === state ? 1 : 0);
      }
    },
  );
  perUpstream(
    gauge,
    'wsproxy_upstream_ready',
    'Open and, where the protocol authenticates, authenticated (what /readyz checks): 1 or 0.',
    (u) => (u.state === 'open' && u.adapterStats?.authenticated !== false ? 1 : 0),
  );
  perUpstream(
    gauge,
    'wsproxy_upstream_clients',
    'Clients sharing the upstream connection.',
    (u) => u.clients.length,
  );
  perUpstream(
    counter,
    'wsproxy_upstream_messages_received_total',
    'WebSocket messages received from upstream.',
    (u) => u.messagesIn,
  );
  perUpstream(
    counter,
    'wsproxy_upstream_received_bytes_total',
    'Payload bytes received from upstream.',
    (u) => u.bytesIn,
  );
  perUpstream(
    counter,
    'wsproxy_upstream_reconnects_total',
    'Successful reconnects after a drop.',
    (u) => u.reconnects,
  );
  perUpstream(
    gauge,
    'wsproxy_upstream_last_message_age_seconds',
    'Seconds since the last message from upstream (absent before the first one).',
    (u) => (typeof u.lastMessageAgeMs === 'number' ? u.lastMessageAgeMs / 1000 : undefined),
  );
  perUpstream(
    counter,
    'wsproxy_upstream_auth_failures_total',
    "Authentication refusals and timeouts reported by the upstream's adapter.",
    (u) => u.adapterStats?.authFailures,
  );

  // ---- adapters ----
  gauge(
    'wsproxy_adapter_subscribed_symbols',
    'Symbols subscribed upstream (the union of every client), per channel.',
    [...UPSTREAM_LABELS, 'channel'],
    (set) => {
      for (const upstream of status.upstreams) {
        const channels = upstream.adapterStats?.subscriptions ?? {};
        for (const [channel, count] of Object.entries(channels))
          set({ ...upstreamLabels(upstream), channel }, count);
      }
    },
  );
  perUpstream(
    counter,
    'wsproxy_adapter_items_routed_total',
    'Data items delivered to at least one client.',
    (u) => u.adapterStats?.itemsRouted,
  );
  perUpstream(
    counter,
    'wsproxy_adapter_items_unrouted_total',
    'Data items no client was subscribed to.',
    (u) => u.adapterStats?.itemsUnrouted,
  );
  perUpstream(
    counter,
    'wsproxy_adapter_upstream_requests_total',
    'Subscribe/unsubscribe round trips sent upstream (changes to the union, resubscriptions).',
    (u) => u.adapterStats?.upstreamRequests,
  );

  // ---- clients ----
  gauge('wsproxy_clients', 'Shared-memory clients connected.', [], (set) => set({}, status.clients.length));
  perClient(
    counter,
    'wsproxy_client_delivered_messages_total',
    'Messages written to the ring for the client.',
    (c) => c.deliveredMessages,
  );
  perClient(
    counter,
    'wsproxy_client_delivered_bytes_total',
    'Payload bytes written to the ring for the client.',
    (c) => c.deliveredBytes,
  );
  perClient(
    counter,
    'wsproxy_client_gaps_total',
    'Times the client was lapped by the ring writer (each is a gap event).',
    (c) => c.gaps,
  );
  perClient(
    counter,
    'wsproxy_client_lost_records_total',
    'Ring records the client lost to laps.',
    (c) => c.lostMessages,
  );
  perClient(
    gauge,
    'wsproxy_client_ring_lag_bytes',
    'Ring bytes written that the client has not read yet.',
    (c) => c.ringLagBytes,
  );
  perClient(
    gauge,
    'wsproxy_client_reader_sleeping',
    'Whether the client reader is parked waiting for a doorbell (idle block/backoff): 1 or 0.',
    (c) => (c.sleeping === undefined ? undefined : c.sleeping ? 1 : 0),
  );

  // ---- ring ----
  gauge('wsproxy_ring_capacity_bytes', 'Capacity of the shared data ring.', [], (set) =>
    set({}, status.ring.capacityBytes),
  );
  gauge('wsproxy_ring_used_bytes', 'Ring bytes not yet read by the slowest reader.', [], (set) =>
    set({}, status.ring.usedBytes),
  );
  gauge('wsproxy_ring_fill_ratio', 'used / capacity, 0 to 1.', [], (set) => set({}, status.ring.fill));
  counter('wsproxy_ring_records_written_total', 'Records written to the ring.', [], (set) =>
    set({}, status.ring.recordsWritten),
  );
  counter('wsproxy_ring_laps_total', 'Times the ring writer wrapped round the ring.', [], (set) =>
    set({}, status.ring.laps ?? 0),
  );

  // ---- drop-in endpoint (only when it serves) ----
  gauge(
    'wsproxy_endpoint_connections',
    'Drop-in endpoint connections, by wire format.',
    ['format'],
    (set) => {
      if (!status.endpoint) return;
      const byFormat = { json: 0, msgpack: 0 };
      for (const connection of status.endpoint.connections) byFormat[connection.format] += 1;
      for (const [format, count] of Object.entries(byFormat)) set({ format }, count);
    },
  );
  counter(
    'wsproxy_endpoint_slow_client_closes_total',
    'Endpoint connections closed for overrunning their send buffer.',
    [],
    (set) => {
      if (status.endpoint) set({}, status.endpoint.slowClientCloses ?? 0);
    },
  );

  return {
    contentType: registry.contentType,
    async scrape() {
      status = source();
      return registry.metrics();
    },
  };
}
