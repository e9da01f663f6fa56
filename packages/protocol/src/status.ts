import { MalformedFrameError } from './errors.js';

/**
 * The daemon's status report. Travels as UTF-8 JSON inside a binary frame: it is low-rate and meant to grow, and a
 * newer daemon may add fields that an older client simply carries along. Only the top-level shape is checked on
 * decode.
 */
export interface DaemonStatus {
  readonly daemon: DaemonInfo;
  readonly ring: RingStatus;
  readonly clients: readonly ClientStatus[];
  readonly upstreams: readonly UpstreamStatus[];
  /** Adapters the daemon can use right now (built in, from `--adapter`, or loaded for an `open`). */
  readonly adapters?: readonly AdapterStatus[];
  /** The drop-in endpoint, when the daemon serves one (`wsproxy start --listen`). */
  readonly endpoint?: EndpointStatus;
  /**
   * Present only when the report was cut to fit the daemon's status size limit: which lists lost entries, and how
   * many there are in all. The entries shown are the first ones (oldest clients and connections first).
   */
  readonly truncated?: StatusTruncation;
  readonly [extension: string]: unknown;
}

/** Which lists of a cut status report are partial. */
export interface StatusTruncation {
  /** The size limit the report was cut to, in bytes of JSON. */
  readonly maxBytes: number;
  readonly lists: readonly TruncatedList[];
  readonly [extension: string]: unknown;
}

export interface TruncatedList {
  /** `endpoint.connections`, `clients` or `upstreams`. */
  readonly list: string;
  readonly shown: number;
  readonly total: number;
}

export interface AdapterStatus {
  readonly name: string;
  /** Where it came from: `''` for the built-in passthrough, else the module (`--adapter` or an open's `adapterModule`). */
  readonly module: string;
  /** The version of the package the module belongs to, when it came from a module and one could be read. */
  readonly version?: string;
  readonly [extension: string]: unknown;
}

export interface EndpointStatus {
  /** `ws://host:port` or `wss://host:port`. */
  readonly url: string;
  readonly connections: readonly EndpointConnectionStatus[];
  /** Connections closed since the start because they overran their send buffer (absent from older daemons). */
  readonly slowClientCloses?: number;
  readonly [extension: string]: unknown;
}

/**
 * One drop-in endpoint connection. Never carries the access token, keys or headers: the path is shown without the
 * token segment and without a query string.
 */
export interface EndpointConnectionStatus {
  /** Its daemon client id (the ids listed in `upstreams[].clients`). */
  readonly clientId: number;
  /** `address:port` of the peer. */
  readonly remote: string;
  readonly path: string;
  /** Wire format asked for in the upgrade's Content-Type. */
  readonly format: 'json' | 'msgpack';
  /** The upstream it joined, or null while it has not (e.g. before it authenticated). */
  readonly connectionId: number | null;
  /** `joining`: not yet on an upstream; `open`; `slow`: overran its send buffer and is being closed; `closing`. */
  readonly state: 'joining' | 'open' | 'slow' | 'closing';
  readonly connectedMs: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly bytesOut: number;
  /** Bytes queued in the socket, not yet sent. */
  readonly bufferedBytes: number;
  /** Frames not sent because the connection was already closing. */
  readonly dropped: number;
  readonly [extension: string]: unknown;
}

export interface DaemonInfo {
  readonly pid: number;
  readonly version: string;
  readonly protocolVersion: number;
  readonly uptimeMs: number;
  readonly logLevel: string;
  readonly [extension: string]: unknown;
}

export interface RingStatus {
  readonly name: string;
  readonly capacityBytes: number;
  /** Bytes written but not yet read by the slowest reader. */
  readonly usedBytes: number;
  /** usedBytes / capacityBytes, 0..1. */
  readonly fill: number;
  readonly recordsWritten: number;
  /** Times the writer has wrapped round the ring since it was created (absent from older daemons). */
  readonly laps?: number;
  readonly [extension: string]: unknown;
}

export interface ClientStatus {
  readonly clientId: number;
  readonly name: string;
  readonly pid: number;
  readonly readerSlot: number;
  readonly connections: readonly number[];
  readonly deliveredMessages: number;
  readonly deliveredBytes: number;
  /** How many times this client was lapped. */
  readonly gaps: number;
  readonly lostMessages: number;
  /** Bytes written to the ring that this client's reader has not consumed yet (absent from older daemons). */
  readonly ringLagBytes?: number;
  /**
   * True while the reader is parked waiting for a doorbell (`idle: 'block'`, or `backoff` at its last stage); a
   * `spin` reader never parks. The daemon cannot see the idle strategy itself, only whether the reader sleeps.
   */
  readonly sleeping?: boolean;
  readonly [extension: string]: unknown;
}

export type UpstreamState = 'connecting' | 'authenticating' | 'open' | 'reconnecting' | 'closing' | 'closed';

export interface UpstreamStatus {
  readonly connectionId: number;
  /** The URL without credentials or query secrets. */
  readonly url: string;
  readonly adapter: string;
  readonly state: UpstreamState;
  /** Client ids sharing this upstream. */
  readonly clients: readonly number[];
  readonly reconnects: number;
  readonly messagesIn: number;
  readonly bytesIn: number;
  /**
   * Daemons of version 3, when the adapter keeps subscription state: each member's ACKNOWLEDGED set, keyed by client
   * id, in the adapter's own JSON shape (Alpaca: `{ trades: [...], quotes: [...], ... }`; passthrough: `[topic]`).
   */
  readonly subscriptions?: Readonly<Record<string, unknown>>;
  /** While `reconnecting`: failed attempts in a row so far (from 1). */
  readonly attempt?: number;
  /** While `reconnecting`: when the next dial is due (ms since the epoch). */
  readonly nextRetryAt?: number;
  /** The latest failure, kept until the upstream is back: catalogue code, vendor code when known, what happened. */
  readonly lastError?: UpstreamFailureStatus;
  /** Milliseconds since the last frame arrived from upstream; null before the first one (absent from older daemons). */
  readonly lastMessageAgeMs?: number | null;
  /** Why it is not open, while it is reconnecting or closed (e.g. `1006 connection closed`). */
  readonly stateReason?: string;
  /** What the upstream's adapter reports about itself (absent when the adapter reports nothing). */
  readonly adapterStats?: AdapterStats;
  readonly [extension: string]: unknown;
}

/**
 * An adapter's own figures for one upstream (see `UpstreamAdapter.stats` in @wsproxy/proxy-server). Every field is
 * optional: an adapter reports what it knows. Channel names are the vendor's (bounded); symbols are only counted.
 */
export interface AdapterStats {
  /** False while the vendor has not (re-)authenticated the shared session; absent when the protocol has no auth. */
  readonly authenticated?: boolean;
  /** Authentication refusals and timeouts since the upstream was created. */
  readonly authFailures?: number;
  /** The vendor's last error for this upstream (code and message, never credentials). */
  readonly lastError?: string;
  /** Per channel, how many symbols the upstream is subscribed to (the union of every client's set). */
  readonly subscriptions?: Readonly<Record<string, number>>;
  /** Items delivered to at least one client. */
  readonly itemsRouted?: number;
  /** Items nobody was subscribed to (e.g. late data after an unsubscribe). */
  readonly itemsUnrouted?: number;
  /** Items of a type the adapter does not know (forwarded by symbol, never dropped). */
  readonly unknownTypeItems?: number;
  /** Upstream frames the adapter could not parse (each reported to its clients as a gap). */
  readonly malformedUpstreamFrames?: number;
  /** Subscribe/unsubscribe round trips sent upstream (changes to the union, resubscriptions after a reconnect). */
  readonly upstreamRequests?: number;
  readonly [extension: string]: unknown;
}

export interface UpstreamFailureStatus {
  readonly code: string;
  readonly vendorCode?: number;
  readonly message: string;
  /** When it happened (ms since the epoch). */
  readonly at: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses a status report's JSON, checking the top-level shape. */
export function parseStatus(json: string): DaemonStatus {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new MalformedFrameError(`status report is not JSON: ${(err as Error).message}`);
  }
  if (
    !isRecord(value) ||
    !isRecord(value.daemon) ||
    !isRecord(value.ring) ||
    !Array.isArray(value.clients) ||
    !Array.isArray(value.upstreams)
  ) {
    throw new MalformedFrameError('status report must be an object with daemon, ring, clients and upstreams');
  }
  return value as DaemonStatus;
}
