import {
  type AdapterStatus,
  type DaemonStatus,
  type EndpointStatus,
  PROTOCOL_VERSION,
} from '@wsproxy/protocol';
import type { RingWriter } from '@wsproxy/shm-queue';
import type { ClientSession } from './client-session.js';
import { displayUrl } from './upstream/display-url.js';
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

/** What `wsproxy status` prints: built on demand from live state, never kept up to date in the hot path. */
export function statusReport(sources: StatusSources): DaemonStatus {
  const { ring } = sources;
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
      uptimeMs: Date.now() - sources.startedAt,
      logLevel: sources.logLevel,
    },
    ring: {
      name: ring.name,
      capacityBytes: ring.capacity,
      usedBytes,
      fill: usedBytes / ring.capacity,
      recordsWritten: ring.sequence,
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
        gaps: reader?.laps ?? 0,
        lostMessages: reader?.lostRecords ?? 0,
      };
    }),
    upstreams: sources.upstreams.map((upstream) => ({
      connectionId: upstream.id,
      url: displayUrl(upstream.url),
      adapter: upstream.adapterName,
      state: upstream.state.kind,
      clients: [...upstream.members.keys()],
      reconnects: upstream.connection.stats.reconnects,
      messagesIn: upstream.connection.stats.messagesIn,
      bytesIn: upstream.connection.stats.bytesIn,
      ...adapterStatsOf(upstream),
    })),
    adapters: sources.adapters,
    ...(sources.endpoint ? { endpoint: sources.endpoint } : {}),
  };
}

function adapterStatsOf(upstream: SharedUpstream): { adapterStats?: Readonly<Record<string, number>> } {
  // An upstream still being created has no adapter yet; an adapter's own bug must not break `wsproxy status`.
  try {
    const stats = (upstream.adapter as SharedUpstream['adapter'] | undefined)?.status?.();
    return stats ? { adapterStats: stats } : {};
  } catch {
    return {};
  }
}
