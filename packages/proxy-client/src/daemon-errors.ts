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
  constructor(message: string) {
    super(DaemonErrorCode.UPSTREAM_UNREACHABLE, message);
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

const byCode: Record<string, new (message: string) => DaemonRequestError> = {
  [DaemonErrorCode.BAD_URL]: BadUrlError,
  [DaemonErrorCode.UPSTREAM_UNREACHABLE]: UpstreamUnreachableError,
  [DaemonErrorCode.CREDENTIALS_MISMATCH]: CredentialsMismatchError,
  [DaemonErrorCode.PROTOCOL]: ProtocolViolationError,
  [DaemonErrorCode.ADAPTER_LOAD_FAILED]: AdapterLoadError,
};

/** The typed error for a daemon's error answer: a named class for the common codes, else `DaemonRequestError`. */
export function daemonError(code: string, message: string): DaemonRequestError {
  const Known = byCode[code];
  return Known ? new Known(message) : new DaemonRequestError(code, message);
}
