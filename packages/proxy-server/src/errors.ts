import { DaemonErrorCode } from '@wsproxy/protocol';
import { quoteForMessage } from './peer-text.js';
import type { UpstreamFailure } from './upstream/upstream-failure.js';

/**
 * Errors raised by the daemon itself (not by the wire codec, whose catalogue lives in `@wsproxy/protocol`).
 * Users match on `code`; every code is listed in the package README.
 */
export class WsproxyServerError extends Error {
  readonly code: string;
  /** The vendor's own code behind the failure (Alpaca 402, HTTP 429, ...), when there is one. */
  readonly vendorCode: number | undefined;

  constructor(code: string, message: string, options?: ErrorOptions & { vendorCode?: number }) {
    super(message, options);
    this.name = 'WsproxyServerError';
    this.code = code;
    this.vendorCode = options?.vendorCode;
  }
}

/** An option or argument had the wrong type or value. */
export class InvalidArgumentError extends WsproxyServerError {
  constructor(message: string) {
    super('WSP_ERR_INVALID_ARGUMENT', message);
    this.name = 'InvalidArgumentError';
  }
}

/** No adapter of that name is registered in this daemon (and the open named no module to load it from). */
export class UnknownAdapterError extends WsproxyServerError {
  constructor(name: string, known: readonly string[]) {
    super(
      DaemonErrorCode.UNKNOWN_ADAPTER,
      `unknown adapter ${JSON.stringify(quoteForMessage(name))}; known: ${quoteForMessage(known.join(', '))}. Start the daemon with --adapter <module>, or open with the adapter's module (adapterModule) so the daemon loads it`,
    );
    this.name = 'UnknownAdapterError';
  }
}

/**
 * An adapter module (from `--adapter`, or an open's `adapterModule`) could not be used: a specifier that is neither
 * an absolute file path nor a package name, a missing file, an import that threw, or no adapter factory exported.
 */
export class AdapterLoadError extends WsproxyServerError {
  readonly module: string;

  constructor(module: string, reason: string, options?: ErrorOptions) {
    super(
      DaemonErrorCode.ADAPTER_LOAD_FAILED,
      `cannot load adapter module ${quoteForMessage(module)}: ${quoteForMessage(reason, 1000)}`,
      options,
    );
    this.name = 'AdapterLoadError';
    this.module = module;
  }
}

/** Where an adapter came from: its module file and the version of the package that holds it. */
export interface AdapterBuild {
  readonly module: string;
  readonly version: string | undefined;
}

/**
 * An open asked for an adapter the daemon already runs from another build (another file, another version): mixing
 * them silently would run one project's code for another. Says which build is loaded and which was asked for.
 */
export class AdapterMismatchError extends WsproxyServerError {
  readonly adapter: string;
  readonly loaded: AdapterBuild;
  readonly requested: AdapterBuild;

  constructor(adapter: string, loaded: AdapterBuild, requested: AdapterBuild) {
    const show = (build: AdapterBuild) => `${build.version ?? 'unknown version'} (${build.module})`;
    super(
      DaemonErrorCode.ADAPTER_MISMATCH,
      `adapter ${JSON.stringify(adapter)} is loaded in this daemon as ${show(loaded)}; this open asks for ${show(requested)}. Use the same version in both projects, or give one of them its own daemon (another namespace)`,
    );
    this.name = 'AdapterMismatchError';
    this.adapter = adapter;
    this.loaded = loaded;
    this.requested = requested;
  }
}

/** The connection's adapter does not support the request (e.g. a subscription scheme it does not know). */
export class NotSupportedError extends WsproxyServerError {
  constructor(message: string) {
    super(DaemonErrorCode.NOT_SUPPORTED, message);
    this.name = 'NotSupportedError';
  }
}

/** The runtime folder is not owned by us, is a symlink, or is readable/writable by others. */
export class InsecureRuntimeDirError extends WsproxyServerError {
  readonly path: string;

  constructor(path: string, reason: string) {
    super('WSP_ERR_INSECURE_RUNTIME_DIR', `refusing to use runtime folder ${path}: ${reason}`);
    this.name = 'InsecureRuntimeDirError';
    this.path = path;
  }
}

/** Another live daemon already serves this namespace. */
export class DaemonAlreadyRunningError extends WsproxyServerError {
  readonly socketPath: string;

  constructor(socketPath: string) {
    super('WSP_ERR_DAEMON_RUNNING', `a wsproxy daemon is already listening on ${socketPath}`);
    this.name = 'DaemonAlreadyRunningError';
    this.socketPath = socketPath;
  }
}

/** A client presented credentials that differ from those of the upstream connection's owner. */
export class CredentialsMismatchError extends WsproxyServerError {
  constructor(url: string) {
    super(
      DaemonErrorCode.CREDENTIALS_MISMATCH,
      `the connection to ${quoteForMessage(url)} is owned by another session; present the same credentials to join it`,
    );
    this.name = 'CredentialsMismatchError';
  }
}

/** The upstream URL is not a ws:// or wss:// URL. */
export class InvalidUrlError extends WsproxyServerError {
  constructor(url: string, reason: string) {
    super(DaemonErrorCode.BAD_URL, `invalid upstream URL ${JSON.stringify(quoteForMessage(url))}: ${reason}`);
    this.name = 'InvalidUrlError';
  }
}

/** The upstream could not be reached or refused the WebSocket handshake on the first attempt. */
export class UpstreamUnreachableError extends WsproxyServerError {
  constructor(url: string, reason: string, options?: ErrorOptions & { vendorCode?: number }) {
    super(
      DaemonErrorCode.UPSTREAM_UNREACHABLE,
      `could not connect to ${quoteForMessage(url)}: ${quoteForMessage(reason, 1000)}`,
      options,
    );
    this.name = 'UpstreamUnreachableError';
  }
}

/** The upstream answered the upgrade with HTTP 429; `retryAfterMs` is its `Retry-After`, when it sent one. */
export class RateLimitedError extends WsproxyServerError {
  readonly retryAfterMs: number | undefined;

  constructor(url: string, failure: UpstreamFailure) {
    super(DaemonErrorCode.RATE_LIMITED, `could not connect to ${url}: ${failure.message}`, {
      vendorCode: failure.vendorCode ?? 429,
    });
    this.name = 'RateLimitedError';
    this.retryAfterMs = failure.retryAfterMs;
  }
}

/** The typed error for a first connect that failed. */
export function upstreamError(url: string, failure: UpstreamFailure): WsproxyServerError {
  if (failure.code === DaemonErrorCode.RATE_LIMITED) return new RateLimitedError(url, failure);
  if (failure.code === DaemonErrorCode.UPSTREAM_UNREACHABLE)
    return new UpstreamUnreachableError(url, failure.message, { vendorCode: failure.vendorCode });
  return new WsproxyServerError(failure.code, `could not connect to ${url}: ${failure.message}`, {
    vendorCode: failure.vendorCode,
  });
}
