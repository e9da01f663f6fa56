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
  readonly [extension: string]: unknown;
}

export interface EndpointStatus {
  /** `ws://host:port` or `wss://host:port`. */
  readonly url: string;
  readonly connections: readonly EndpointConnectionStatus[];
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
  readonly [extension: string]: unknown;
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
