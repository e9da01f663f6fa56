import {
  type AdapterStats,
  type AdapterStatus,
  type DaemonStatus,
  type EndpointStatus,
  PROTOCOL_VERSION,
  type UpstreamStatus,
} from '@wsproxy/protocol';
import type { RingWriter } from '@wsproxy/shm-queue';
import type { ClientSession } from './client-session.js';
import { displayUrl } from './upstream/display-url.js';
import type { UpstreamState } from './upstream/upstream-connection.js';
import type { SharedUpstream } from './upstream/upstream-registry.js';

export interface StatusSources {
  readonly pid: number;
  readonly version: string;
  readonly startedAt: number;
  readonly logLevel: string;
  readonly ring: RingWriter;
  readonly clients: readonly ClientSession[];
  readonly upstreams: readonly SharedUpstream[];
  readonly adapters: readonly AdapterStatus[];
  /** Present only when the drop-in endpoint is on. */
  readonly endpoint?: EndpointStatus;
}

/** Why an upstream is not `open`, and when it is tried next: what a user needs while it is down. */
function upstreamHealth(upstream: SharedUpstream): Partial<UpstreamStatus> {
  const { state, lastFailure } = upstream.connection;
  return {
    ...(state.kind === 'reconnecting' ? { attempt: state.attempt, nextRetryAt: state.nextRetryAt } : {}),
    ...(lastFailure ? { lastError: lastFailure } : {}),
  };
}

function stateReason(state: UpstreamState & { kind: 'reconnecting' | 'closed' }): string {
  return state.kind === 'closed' ? `${state.code} ${state.reason}` : state.reason;
}

/** What `wsproxy status` prints: built on demand from live state, never kept up to date in the hot path. */
export function statusReport(sources: StatusSources): DaemonStatus {
  const { ring } = sources;
  const now = Date.now();
  const readers = new Map(ring.readers().map((reader) => [reader.slot, reader]));
  const usedBytes = Math.min(
    ring.capacity,
    Math.max(0, ...[...readers.values()].map((reader) => reader.lag)),
  );
  return {
    daemon: {
      pid: sources.pid,
      version: sources.version,
      protocolVersion: PROTOCOL_VERSION,
      uptimeMs: now - sources.startedAt,
      logLevel: sources.logLevel,
    },
    ring: {
      name: ring.name,
      capacityBytes: ring.capacity,
      usedBytes,
      fill: usedBytes / ring.capacity,
      recordsWritten: ring.sequence,
      laps: Math.floor(ring.position / ring.capacity),
    },
    clients: sources.clients.map((session) => {
      const reader = readers.get(session.readerSlot);
      return {
        clientId: session.id,
        name: session.name,
        pid: session.pid,
        readerSlot: session.readerSlot,
        connections: [...session.connections],
        deliveredMessages: session.stats.deliveredMessages,
        deliveredBytes: session.stats.deliveredBytes,
        // Every loss this client was told of as a `gap`: laps in the ring, and frames the adapter could not route.
        gaps: (reader?.laps ?? 0) + session.stats.droppedMessages,
        lostMessages: (reader?.lostRecords ?? 0) + session.stats.droppedMessages,
        // Absent while the client has not attached its ring reader (nothing to lag behind yet).
        ...(reader ? { ringLagBytes: reader.lag, sleeping: reader.sleeping } : {}),
      };
    }),
    upstreams: sources.upstreams.map((upstream) => {
      const { stats } = upstream.connection;
      const state = upstream.state;
      return {
        connectionId: upstream.id,
        url: displayUrl(upstream.url),
        adapter: upstream.adapterName,
        state: state.kind,
        clients: [...upstream.members.keys()],
        reconnects: stats.reconnects,
        messagesIn: stats.messagesIn,
        bytesIn: stats.bytesIn,
        lastMessageAgeMs: stats.lastMessageAt > 0 ? Math.max(0, now - stats.lastMessageAt) : null,
        ...(state.kind === 'reconnecting' || state.kind === 'closed'
          ? { stateReason: stateReason(state) }
          : {}),
        ...adapterStatsOf(upstream),
        ...subscriptionsOf(upstream),
        ...upstreamHealth(upstream),
      };
    }),
    adapters: sources.adapters,
    ...(sources.endpoint ? { endpoint: sources.endpoint } : {}),
  };
}

/** Each member's acknowledged set, keyed by client id (JSON object keys are strings), when the adapter keeps state. */
function subscriptionsOf(upstream: SharedUpstream): { subscriptions?: Record<string, unknown> } {
  const sets = upstream.adapter.subscriptions?.();
  if (!sets) return {};
  const subscriptions: Record<string, unknown> = {};
  for (const [client, set] of sets) subscriptions[String(client)] = set;
  return { subscriptions };
}

function adapterStatsOf(upstream: SharedUpstream): { adapterStats?: AdapterStats } {
  // An upstream still being created has no adapter yet; an adapter's own bug must not break `wsproxy status`.
  try {
    const stats = (upstream.adapter as SharedUpstream['adapter'] | undefined)?.stats?.();
    return stats ? { adapterStats: stats } : {};
  } catch {
    return {};
  }
}

/** The lists a status report may cut, largest first: endpoint connections can number thousands, clients 64. */
const CUTTABLE = ['endpoint.connections', 'clients', 'upstreams'] as const;

function listOf(status: DaemonStatus, name: (typeof CUTTABLE)[number]): readonly unknown[] {
  if (name === 'endpoint.connections') return status.endpoint?.connections ?? [];
  return status[name];
}

function withList(
  status: DaemonStatus,
  name: (typeof CUTTABLE)[number],
  items: readonly unknown[],
): DaemonStatus {
  if (name === 'endpoint.connections') {
    return status.endpoint
      ? { ...status, endpoint: { ...status.endpoint, connections: items as EndpointStatus['connections'] } }
      : status;
  }
  return { ...status, [name]: items };
}

/**
 * The report cut to at most `maxBytes` of JSON: a daemon with 17,000 endpoint connections must still answer
 * `status` (it used to crash on the codec's size limit). Lists are shortened, largest first, and `truncated` says
 * which and by how much, so nobody mistakes a partial list for the whole.
 */
export function capStatus(status: DaemonStatus, maxBytes: number): DaemonStatus {
  const size = (report: DaemonStatus) => Buffer.byteLength(JSON.stringify(report));
  if (size(status) <= maxBytes) return status;
  const lists: { list: string; shown: number; total: number }[] = [];
  let report = status;
  // Room for the `truncated` note itself.
  const budget = maxBytes - 512;
  for (const name of CUTTABLE) {
    const all = listOf(status, name);
    if (all.length === 0) continue;
    // Binary search on how many entries fit (entries differ in size, so no division would do).
    let low = 0;
    let high = all.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (size(withList(report, name, all.slice(0, mid))) <= budget) low = mid;
      else high = mid - 1;
    }
    report = withList(report, name, all.slice(0, low));
    if (low < all.length) lists.push({ list: name, shown: low, total: all.length });
    if (size(report) <= budget) break;
  }
  return { ...report, truncated: { maxBytes, lists } };
}
