import type { ConnectionEvent } from '../events.js';
import type { DaemonStatus } from '../status.js';

/**
 * Control messages: everything that travels over a client's Unix socket. Low rate, must not be lost, may carry
 * secrets. Requests carry a `requestId` chosen by the client (any u32; 0 is reserved for "no request") and are
 * answered by exactly one response with the same id.
 */
export type ControlMessage = ClientMessage | DaemonMessage;

/** What a client sends. */
export type ClientMessage = Hello | ClientRequest;

/** What a daemon sends. */
export type DaemonMessage = Welcome | Refused | DaemonResponse | EventMessage;

export type ClientRequest =
  | OpenRequest
  | CloseRequest
  | SendRequest
  | SubscribeRequest
  | UnsubscribeRequest
  | SetLogLevelRequest
  | StatusRequest
  | RestoreRequest;

export type DaemonResponse =
  | OkResponse
  | ErrorResponse
  | OpenedResponse
  | SubscribedResponse
  | UnsubscribedResponse
  | StatusResponse;

export type ControlMessageType = ControlMessage['type'];

// ---- handshake ---------------------------------------------------------------------------------------------------

/** First frame a client sends. Its layout is frozen across all protocol versions so any daemon can read it. */
export interface Hello {
  readonly type: 'hello';
  /** Oldest protocol version the client speaks. */
  readonly minVersion: number;
  /** Newest protocol version the client speaks. */
  readonly maxVersion: number;
  /** Process id of the client (for status and logs). */
  readonly clientPid: number;
  /** A human name for the client (e.g. the strategy's name). */
  readonly clientName: string;
}

/** The daemon's acceptance of a hello: the chosen version and where this client reads data. */
export interface Welcome {
  readonly type: 'welcome';
  /** The negotiated protocol version (within the client's range). */
  readonly version: number;
  /** The daemon's id for this client (unique for the daemon's lifetime, never 0). */
  readonly clientId: number;
  readonly daemonPid: number;
  /** The daemon's package version (semver string). */
  readonly daemonVersion: string;
  /** Name of the shared-memory ring segment to map. */
  readonly ringName: string;
  /** This client's reader slot in the ring: records are addressed to slots. */
  readonly readerSlot: number;
}

/**
 * The daemon's refusal of a hello (version mismatch, no free reader slot, shutting down); the daemon closes the
 * socket after it. Frozen layout, like `hello`. Carries the daemon's version range so the client can name both.
 */
export interface Refused {
  readonly type: 'refused';
  readonly code: string;
  readonly message: string;
  readonly minVersion: number;
  readonly maxVersion: number;
}

// ---- requests ----------------------------------------------------------------------------------------------------

/** Upstream credentials. Only ever sent over the control socket; never written to the ring or logged. */
export interface Credentials {
  /** Key id (Alpaca: APCA-API-KEY-ID, or "oauth" / "access_token"). May be empty for single-token vendors. */
  readonly key: string;
  readonly secret: string;
}

/** A header as a [name, value] pair: order and repeats are kept, as on the wire of an HTTP upgrade. */
export type Header = readonly [name: string, value: string];

/** Open (or join) a shared upstream WebSocket. Answered by `opened` or `error`. */
export interface OpenRequest {
  readonly type: 'open';
  readonly requestId: number;
  readonly url: string;
  /** Adapter name; `''` means passthrough (every client of the connection gets every frame). */
  readonly adapter: string;
  readonly headers: readonly Header[];
  readonly credentials: Credentials | null;
  /**
   * Protocol version 2 on: where the daemon may load the adapter from when none named `adapter` is loaded yet (an
   * absolute file path or a package specifier). Absent or `''`: the daemon must already have the adapter.
   */
  readonly adapterModule?: string;
}

/** Leave one connection, or all of this client's connections (`connectionId: 'all'`). Answered by `ok`. */
export interface CloseRequest {
  readonly type: 'close';
  readonly requestId: number;
  readonly connectionId: number | 'all';
}

/** Send one WebSocket message upstream. Answered by `ok` once handed to the upstream socket. */
export interface SendRequest {
  readonly type: 'send';
  readonly requestId: number;
  readonly connectionId: number;
  readonly binary: boolean;
  readonly payload: Uint8Array;
}

/** Adapter-level subscription change. `params` is the adapter's own encoding (JSON by convention). */
export interface SubscribeRequest {
  readonly type: 'subscribe';
  readonly requestId: number;
  readonly connectionId: number;
  readonly params: Uint8Array;
}

export interface UnsubscribeRequest {
  readonly type: 'unsubscribe';
  readonly requestId: number;
  readonly connectionId: number;
  readonly params: Uint8Array;
}

/**
 * Protocol version 3: replace this client's subscriptions on a connection with `state`, a set the daemon answered
 * earlier (the `state` of a `subscribed`/`unsubscribed`, adapter-defined bytes). Sent after a daemon restart, so what
 * comes back is the acknowledged set, never a replay of requests. Answered by `subscribed` (with the resulting state)
 * or `error`.
 */
export interface RestoreRequest {
  readonly type: 'restore';
  readonly requestId: number;
  readonly connectionId: number;
  readonly state: Uint8Array;
}

/** pino's levels. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Change the daemon's log level. Answered by `ok`. */
export interface SetLogLevelRequest {
  readonly type: 'setLogLevel';
  readonly requestId: number;
  readonly level: LogLevel;
}

/** Ask for the daemon's status. Answered by `statusReport`. */
export interface StatusRequest {
  readonly type: 'status';
  readonly requestId: number;
}

// ---- responses ---------------------------------------------------------------------------------------------------

/** Success without a payload (close, send, setLogLevel). */
export interface OkResponse {
  readonly type: 'ok';
  readonly requestId: number;
}

/** Failure of a request; `requestId` 0 when the error is not about one request (e.g. a protocol error). */
export interface ErrorResponse {
  readonly type: 'error';
  readonly requestId: number;
  /** A stable code, from `DaemonErrorCode` (or a newer daemon's). */
  readonly code: string;
  readonly message: string;
  /**
   * The vendor's own code behind the failure (Alpaca 402, HTTP 429, ...), when there is one. Protocol version 3:
   * sent as type 0x28; a daemon leaves it out for an older client.
   */
  readonly vendorCode?: number;
}

/** The answer to `open`: the connection is ready (for Alpaca: authenticated). */
export interface OpenedResponse {
  readonly type: 'opened';
  readonly requestId: number;
  /** The daemon's id for the upstream connection (never 0). Data records carry it. */
  readonly connectionId: number;
  /** True for exactly one opener: the one whose open created the upstream connection. */
  readonly isNew: boolean;
}

/** The answer to `subscribe`. */
export interface SubscribedResponse {
  readonly type: 'subscribed';
  readonly requestId: number;
  /** True when another client already held (some of) this subscription, so nothing new was sent upstream for it. */
  readonly alreadySubscribed: boolean;
  /** The adapter's own reply (for Alpaca: the ack JSON listing this client's set). */
  readonly reply: Uint8Array;
  /**
   * Protocol version 3 on, when the adapter keeps subscription state: this client's acknowledged set after the
   * request (adapter-defined bytes; a rejected request leaves it as it was). What `restore` takes back.
   */
  readonly state?: Uint8Array;
}

/** The answer to `unsubscribe`. */
export interface UnsubscribedResponse {
  readonly type: 'unsubscribed';
  readonly requestId: number;
  /** True when other clients still hold (some of) it, so it stays subscribed upstream. */
  readonly stillSubscribed: boolean;
  readonly reply: Uint8Array;
  /** As in `subscribed`: this client's acknowledged set after the request. */
  readonly state?: Uint8Array;
}

/** The answer to `status`. */
export interface StatusResponse {
  readonly type: 'statusReport';
  readonly requestId: number;
  readonly status: DaemonStatus;
}

// ---- events ------------------------------------------------------------------------------------------------------

/** A connection event sent to one client over its control socket (the ring carries the same body to many). */
export interface EventMessage {
  readonly type: 'event';
  readonly event: ConnectionEvent;
}
