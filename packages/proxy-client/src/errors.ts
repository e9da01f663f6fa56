import type { RuntimePaths } from '@wsproxy/proxy-server';

/** Base of every error this package throws or emits; match on `code`. Codes are listed in the README. */
export class WsproxyClientError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WsproxyClientError';
    this.code = code;
  }
}

/** An option had the wrong type or value; thrown before anything is started. */
export class InvalidArgumentError extends WsproxyClientError {
  constructor(message: string) {
    super('WSP_ERR_INVALID_ARGUMENT', message);
    this.name = 'InvalidArgumentError';
  }
}

/** No daemon could be reached (and spawning was disabled or did not help in time). */
export class DaemonUnavailableError extends WsproxyClientError {
  readonly socketPath: string;

  constructor(socketPath: string, reason: string, options?: ErrorOptions) {
    super('WSP_ERR_DAEMON_UNAVAILABLE', `no wsproxy daemon at ${socketPath}: ${reason}`, options);
    this.name = 'DaemonUnavailableError';
    this.socketPath = socketPath;
  }
}

/** The daemon we spawned exited before it could serve us; its log file usually says why. */
export class DaemonSpawnError extends WsproxyClientError {
  readonly exitCode: number | null;

  constructor(paths: RuntimePaths, exitCode: number | null) {
    super(
      'WSP_ERR_DAEMON_SPAWN',
      `the wsproxy daemon exited with code ${exitCode} right after it was spawned; see ${paths.logPath}`,
    );
    this.name = 'DaemonSpawnError';
    this.exitCode = exitCode;
  }
}

/** The daemon went away while a request was in flight (it crashed, or was stopped). */
export class DaemonDisconnectedError extends WsproxyClientError {
  constructor(message = 'the connection to the wsproxy daemon was lost') {
    super('WSP_ERR_DAEMON_DISCONNECTED', message);
    this.name = 'DaemonDisconnectedError';
  }
}

/** The client or socket was closed by the user; nothing more can be done with it. */
export class ClosedError extends WsproxyClientError {
  constructor(what: string) {
    super('WSP_ERR_CLOSED', `${what} is closed`);
    this.name = 'ClosedError';
  }
}

/** The daemon refused our hello (protocol versions do not overlap, no free reader slot, shutting down). */
export class HandshakeRefusedError extends WsproxyClientError {
  constructor(code: string, message: string) {
    super(code, `the wsproxy daemon refused this client: ${message}`);
    this.name = 'HandshakeRefusedError';
  }
}

/**
 * A request the daemon answered with an error: `code` is the daemon's (`WSP_ERR_BAD_URL`,
 * `WSP_ERR_UPSTREAM_UNREACHABLE`, `WSP_ERR_CREDENTIALS_MISMATCH`, ... see `DaemonErrorCode` in @wsproxy/protocol).
 */
export class DaemonRequestError extends WsproxyClientError {
  /** The vendor's own code behind the failure (Alpaca 402/406, HTTP 429, ...), when the daemon knows one. */
  readonly vendorCode: number | undefined;

  constructor(code: string, message: string, vendorCode?: number) {
    super(code, message);
    this.name = 'DaemonRequestError';
    this.vendorCode = vendorCode;
  }
}
