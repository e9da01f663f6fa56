// One error class per failure, each with a stable `code` users can match on (documented in the README).
import { DaemonErrorCode } from '@wsproxy/protocol';

export type AlpacaAdapterErrorCode =
  | 'WSP_ALPACA_ERR_INVALID_ARGUMENT'
  | 'WSP_ALPACA_ERR_MALFORMED_FRAME'
  | 'WSP_ALPACA_ERR_SNAPSHOT_FETCH'
  | 'WSP_ALPACA_ERR_CLOSED'
  // What Alpaca refused travels with wsproxy's catalogue code, the same whichever process reports it.
  | DaemonErrorCode;

export class AlpacaAdapterError extends Error {
  readonly code: AlpacaAdapterErrorCode;
  constructor(code: AlpacaAdapterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlpacaAdapterError';
    this.code = code;
  }
}

/**
 * wsproxy's catalogue code for an Alpaca error code (ALPACA.md): what a strategy matches on; Alpaca's own code
 * travels beside it as `vendorCode` / `alpacaCode`.
 */
export function catalogueCode(alpacaCode: number): DaemonErrorCode {
  switch (alpacaCode) {
    case 402: // auth failed
    case 409: // insufficient subscription (the plan lacks this feed)
    case 411: // insufficient scope
      return DaemonErrorCode.AUTH_FAILED;
    case 406: // connection limit exceeded (also while Alpaca still holds a dropped session)
      return DaemonErrorCode.UPSTREAM_LIMIT;
    case 404: // auth timeout
      return DaemonErrorCode.TIMEOUT;
    case 405: // symbol limit exceeded
    case 410: // invalid subscribe action for this feed
    case 413: // star subscription not allowed for option quotes
      return DaemonErrorCode.SUBSCRIPTION_REJECTED;
    case 400: // invalid syntax
    case 412: // options need msgpack
      return DaemonErrorCode.BAD_PARAMS;
    default: // 407 slow client (the server closes us), 500 internal error
      return DaemonErrorCode.UPSTREAM_CLOSED;
  }
}

/** An option or argument is out of range (`<option> must be …`). */
export class InvalidArgumentError extends AlpacaAdapterError {
  constructor(message: string) {
    super('WSP_ALPACA_ERR_INVALID_ARGUMENT', message);
    this.name = 'InvalidArgumentError';
  }
}

/** A frame is not a well-formed Alpaca message array (JSON or msgpack). */
export class MalformedFrameError extends AlpacaAdapterError {
  /** Byte offset where the scanner gave up. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('WSP_ALPACA_ERR_MALFORMED_FRAME', `${message} at byte ${offset}`);
    this.name = 'MalformedFrameError';
    this.offset = offset;
  }
}

/**
 * Alpaca answered the shared session with an error (auth failed, connection limit, slow client, ...). `code` is the
 * catalogue's (`WSP_ERR_AUTH_FAILED` for 402, `WSP_ERR_UPSTREAM_LIMIT` for 406, ...; see `catalogueCode`).
 */
export class UpstreamError extends AlpacaAdapterError {
  /** Alpaca's numeric error code (402, 406, 407, ...). */
  readonly alpacaCode: number;
  /** The same, under the name the daemon puts on the wire for every vendor. */
  readonly vendorCode: number;
  /** Alpaca refused the keys themselves (402): the daemon refuses them locally for a while instead of redialling. */
  readonly credentialsRefused: boolean;
  constructor(alpacaCode: number, msg: string) {
    super(catalogueCode(alpacaCode), `Alpaca error ${alpacaCode}: ${msg}`);
    this.name = 'UpstreamError';
    this.alpacaCode = alpacaCode;
    this.vendorCode = alpacaCode;
    this.credentialsRefused = alpacaCode === 402;
  }
}

/** Subscription parameters that are not an Alpaca message the adapter can read. */
export class BadParamsError extends AlpacaAdapterError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(DaemonErrorCode.BAD_PARAMS, message, options);
    this.name = 'BadParamsError';
  }
}

/** A REST snapshot request failed (network error or non-2xx answer). */
export class SnapshotFetchError extends AlpacaAdapterError {
  readonly status: number | undefined;
  constructor(message: string, status?: number, cause?: unknown) {
    super('WSP_ALPACA_ERR_SNAPSHOT_FETCH', message, { cause });
    this.name = 'SnapshotFetchError';
    this.status = status;
  }
}

/**
 * Client side: Alpaca (or the adapter on its behalf) rejected one of this client's requests. `code` is the
 * catalogue's: `WSP_ERR_SUBSCRIPTION_REJECTED` for 405/410/413, `WSP_ERR_BAD_PARAMS` for 400/412.
 */
export class AlpacaRejectedError extends AlpacaAdapterError {
  readonly alpacaCode: number;
  readonly vendorCode: number;
  constructor(alpacaCode: number, msg: string) {
    super(catalogueCode(alpacaCode), `Alpaca rejected the request (${alpacaCode}): ${msg}`);
    this.name = 'AlpacaRejectedError';
    this.alpacaCode = alpacaCode;
    this.vendorCode = alpacaCode;
  }
}

/** Client side: the stream was closed while a request was pending. */
export class StreamClosedError extends AlpacaAdapterError {
  constructor(message = 'the stream is closed') {
    super('WSP_ALPACA_ERR_CLOSED', message);
    this.name = 'StreamClosedError';
  }
}

/** Alpaca's own error codes and messages (ALPACA.md), used for the answers the adapter gives locally. */
export const ALPACA_ERROR_MESSAGES: Readonly<Record<number, string>> = {
  400: 'invalid syntax',
  401: 'not authenticated',
  402: 'auth failed',
  403: 'already authenticated',
  404: 'auth timeout',
  405: 'symbol limit exceeded',
  406: 'connection limit exceeded',
  407: 'slow client',
  409: 'insufficient subscription',
  410: 'invalid subscribe action for this feed',
  411: 'insufficient scope',
  412: 'option messages are only available in MsgPack format',
  413: 'star subscription is not allowed for option quotes',
  500: 'internal error',
};
