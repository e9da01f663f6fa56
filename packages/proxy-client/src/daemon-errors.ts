import { DaemonErrorCode } from '@wsproxy/protocol';
import { DaemonRequestError } from './errors.js';

/** The open's URL is not a valid ws:// or wss:// URL. */
export class BadUrlError extends DaemonRequestError {
  constructor(message: string) {
    super(DaemonErrorCode.BAD_URL, message);
    this.name = 'BadUrlError';
  }
}

/** The upstream host could not be reached or refused the WebSocket upgrade. */
export class UpstreamUnreachableError extends DaemonRequestError {
  constructor(message: string, vendorCode?: number) {
    super(DaemonErrorCode.UPSTREAM_UNREACHABLE, message, vendorCode);
    this.name = 'UpstreamUnreachableError';
  }
}

/** The connection exists with other credentials: present the owner's credentials to join it. */
export class CredentialsMismatchError extends DaemonRequestError {
  constructor(message: string) {
    super(DaemonErrorCode.CREDENTIALS_MISMATCH, message);
    this.name = 'CredentialsMismatchError';
  }
}

/** The daemon could not decode what we sent (a bug, or a version skew the handshake did not catch). */
export class ProtocolViolationError extends DaemonRequestError {
  constructor(message: string) {
    super(DaemonErrorCode.PROTOCOL, message);
    this.name = 'ProtocolViolationError';
  }
}

/** The daemon could not load the adapter module named in `open` (`adapterModule`); the message says why. */
export class AdapterLoadError extends DaemonRequestError {
  constructor(message: string) {
    super(DaemonErrorCode.ADAPTER_LOAD_FAILED, message);
    this.name = 'AdapterLoadError';
  }
}

/** The daemon runs another build (path and version) of the adapter this open brings; the message names both. */
export class AdapterMismatchError extends DaemonRequestError {
  constructor(message: string) {
    super(DaemonErrorCode.ADAPTER_MISMATCH, message);
    this.name = 'AdapterMismatchError';
  }
}

/** The upstream refused the credentials (Alpaca 402; also 409 / 411: the plan or token does not cover it). */
export class AuthFailedError extends DaemonRequestError {
  constructor(message: string, vendorCode?: number) {
    super(DaemonErrorCode.AUTH_FAILED, message, vendorCode);
    this.name = 'AuthFailedError';
  }
}

/** The upstream has no room for this session (Alpaca 406: connection limit, or it still holds a dropped one). */
export class UpstreamLimitError extends DaemonRequestError {
  constructor(message: string, vendorCode?: number) {
    super(DaemonErrorCode.UPSTREAM_LIMIT, message, vendorCode);
    this.name = 'UpstreamLimitError';
  }
}

/** The upstream answered the upgrade with HTTP 429. */
export class RateLimitedError extends DaemonRequestError {
  constructor(message: string, vendorCode?: number) {
    super(DaemonErrorCode.RATE_LIMITED, message, vendorCode);
    this.name = 'RateLimitedError';
  }
}

/** The upstream refused a subscription change (Alpaca 405 symbol limit, 410 invalid for the feed, 413). */
export class SubscriptionRejectedError extends DaemonRequestError {
  constructor(message: string, vendorCode?: number) {
    super(DaemonErrorCode.SUBSCRIPTION_REJECTED, message, vendorCode);
    this.name = 'SubscriptionRejectedError';
  }
}

/** The upstream connection closed for good (the daemon gave up on it, or the vendor closed the session). */
export class UpstreamClosedError extends DaemonRequestError {
  constructor(message: string, vendorCode?: number) {
    super(DaemonErrorCode.UPSTREAM_CLOSED, message, vendorCode);
    this.name = 'UpstreamClosedError';
  }
}

const byCode: Record<string, new (message: string, vendorCode?: number) => DaemonRequestError> = {
  [DaemonErrorCode.BAD_URL]: BadUrlError,
  [DaemonErrorCode.UPSTREAM_UNREACHABLE]: UpstreamUnreachableError,
  [DaemonErrorCode.CREDENTIALS_MISMATCH]: CredentialsMismatchError,
  [DaemonErrorCode.PROTOCOL]: ProtocolViolationError,
  [DaemonErrorCode.ADAPTER_LOAD_FAILED]: AdapterLoadError,
  [DaemonErrorCode.ADAPTER_MISMATCH]: AdapterMismatchError,
  [DaemonErrorCode.AUTH_FAILED]: AuthFailedError,
  [DaemonErrorCode.UPSTREAM_LIMIT]: UpstreamLimitError,
  [DaemonErrorCode.RATE_LIMITED]: RateLimitedError,
  [DaemonErrorCode.SUBSCRIPTION_REJECTED]: SubscriptionRejectedError,
  [DaemonErrorCode.UPSTREAM_CLOSED]: UpstreamClosedError,
};

/**
 * The typed error for a daemon's error answer or `error` event: a named class for the common codes, else
 * `DaemonRequestError`; the vendor's code rides along in `vendorCode`.
 */
export function daemonError(code: string, message: string, vendorCode?: number): DaemonRequestError {
  const Known = byCode[code];
  return Known ? new Known(message, vendorCode) : new DaemonRequestError(code, message, vendorCode);
}
