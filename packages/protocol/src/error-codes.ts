/**
 * The daemon-level error codes: what an `error` response or an `error` event carries in its `code`. One list shared
 * by the daemon, the client and the adapters, so a strategy can match on a code whichever package produced it.
 * Decoders accept codes not listed here (a newer daemon may add some); encoders accept any string.
 */
export const DaemonErrorCode = {
  /** The URL of an `open` is not a valid ws:// or wss:// URL. */
  BAD_URL: 'WSP_ERR_BAD_URL',
  /** The upstream could not be reached (DNS, TCP, TLS, HTTP upgrade refused). */
  UPSTREAM_UNREACHABLE: 'WSP_ERR_UPSTREAM_UNREACHABLE',
  /** The upstream refused the credentials (e.g. Alpaca 402 auth failed). */
  AUTH_FAILED: 'WSP_ERR_AUTH_FAILED',
  /** An open joined an authenticated upstream with credentials other than the ones it was opened with. */
  CREDENTIALS_MISMATCH: 'WSP_ERR_CREDENTIALS_MISMATCH',
  /** The upstream has no room for us (e.g. Alpaca 406 connection limit exceeded). */
  UPSTREAM_LIMIT: 'WSP_ERR_UPSTREAM_LIMIT',
  /**
   * The upstream asked us to slow down (HTTP 429 on upgrade), or the daemon's own bound on upstream dials per account
   * per minute was reached (the message says which, and when to retry).
   */
  RATE_LIMITED: 'WSP_ERR_RATE_LIMITED',
  /** The upstream connection closed and will not be retried. */
  UPSTREAM_CLOSED: 'WSP_ERR_UPSTREAM_CLOSED',
  /** A request names a connection id this client has not opened (or that is closed). */
  UNKNOWN_CONNECTION: 'WSP_ERR_UNKNOWN_CONNECTION',
  /** The adapter named in `open` does not exist in this daemon. */
  UNKNOWN_ADAPTER: 'WSP_ERR_UNKNOWN_ADAPTER',
  /**
   * The adapter module named in `open` (`adapterModule`) could not be used: not an absolute file path or package
   * specifier, not found, threw while loading, or exports no adapter factory of the requested name.
   */
  ADAPTER_LOAD_FAILED: 'WSP_ERR_ADAPTER_LOAD_FAILED',
  /**
   * The adapter named in `open` is already loaded in this daemon from another build (another path and version):
   * one daemon never mixes two versions of an adapter. The message names both.
   */
  ADAPTER_MISMATCH: 'WSP_ERR_ADAPTER_MISMATCH',
  /** The connection's adapter does not support this request (e.g. subscribe on passthrough). */
  NOT_SUPPORTED: 'WSP_ERR_NOT_SUPPORTED',
  /** Adapter parameters that the adapter cannot parse or accept. */
  BAD_PARAMS: 'WSP_ERR_BAD_PARAMS',
  /** The upstream refused a subscription change (e.g. Alpaca 405 symbol limit, 410 invalid for feed). */
  SUBSCRIPTION_REJECTED: 'WSP_ERR_SUBSCRIPTION_REJECTED',
  /** Every reader slot of the ring is taken. */
  TOO_MANY_CLIENTS: 'WSP_ERR_TOO_MANY_CLIENTS',
  /** A request arrived before the handshake completed, or a second hello. */
  HANDSHAKE_REQUIRED: 'WSP_ERR_HANDSHAKE_REQUIRED',
  /** The peer sent a frame this side could not decode; the connection is closed after this error. */
  PROTOCOL: 'WSP_ERR_PROTOCOL',
  /** Sending to the upstream failed (socket not open, buffer full). */
  SEND_FAILED: 'WSP_ERR_SEND_FAILED',
  /** The upstream did not answer in time (connect, auth or subscription ack). */
  TIMEOUT: 'WSP_ERR_TIMEOUT',
  /** The daemon is shutting down and accepts no new work. */
  SHUTTING_DOWN: 'WSP_ERR_SHUTTING_DOWN',
  /**
   * A peer went over one of the daemon's documented bounds (docs/limits.md): a request or its answer too large to
   * send, too many bytes before hello. The message names the bound and its value.
   */
  OVER_LIMIT: 'WSP_ERR_OVER_LIMIT',
  /** The peer let more than the allowed bytes pile up unread on its connection; it is closed after this error. */
  SLOW_CONSUMER: 'WSP_ERR_SLOW_CONSUMER',
  /** Too many connections that have not said hello yet; this one is closed after the error. */
  TOO_MANY_CONNECTIONS: 'WSP_ERR_TOO_MANY_CONNECTIONS',
  /**
   * Every reader slot was taken and this client had held one without any open connection for longer than the idle
   * limit: its slot went to a newcomer.
   */
  IDLE_TIMEOUT: 'WSP_ERR_IDLE_TIMEOUT',
  /** A bug in the daemon; the message says what failed. */
  INTERNAL: 'WSP_ERR_INTERNAL',
} as const;

export type DaemonErrorCode = (typeof DaemonErrorCode)[keyof typeof DaemonErrorCode];

const known: ReadonlySet<string> = new Set(Object.values(DaemonErrorCode));

/** True when `code` is one of the codes this version of the catalogue knows. */
export function isDaemonErrorCode(code: string): code is DaemonErrorCode {
  return known.has(code);
}
