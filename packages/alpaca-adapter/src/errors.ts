// One error class per failure, each with a stable `code` users can match on (documented in the README).

export type AlpacaAdapterErrorCode =
  | 'WSP_ALPACA_ERR_INVALID_ARGUMENT'
  | 'WSP_ALPACA_ERR_MALFORMED_FRAME'
  | 'WSP_ALPACA_ERR_UPSTREAM'
  | 'WSP_ALPACA_ERR_SNAPSHOT_FETCH'
  | 'WSP_ALPACA_ERR_REJECTED'
  | 'WSP_ALPACA_ERR_CLOSED';

export class AlpacaAdapterError extends Error {
  readonly code: AlpacaAdapterErrorCode;
  constructor(code: AlpacaAdapterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlpacaAdapterError';
    this.code = code;
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

/** Alpaca answered the shared session with an error (auth failed, connection limit, slow client, ...). */
export class UpstreamError extends AlpacaAdapterError {
  /** Alpaca's numeric error code (402, 406, 407, ...). */
  readonly alpacaCode: number;
  /** Alpaca refused the keys themselves (402): the daemon refuses them locally for a while instead of redialling. */
  readonly credentialsRefused: boolean;
  constructor(alpacaCode: number, msg: string) {
    super('WSP_ALPACA_ERR_UPSTREAM', `Alpaca error ${alpacaCode}: ${msg}`);
    this.name = 'UpstreamError';
    this.alpacaCode = alpacaCode;
    this.credentialsRefused = alpacaCode === 402;
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

/** Client side: Alpaca (or the adapter on its behalf) rejected one of this client's requests. */
export class AlpacaRejectedError extends AlpacaAdapterError {
  readonly alpacaCode: number;
  constructor(alpacaCode: number, msg: string) {
    super('WSP_ALPACA_ERR_REJECTED', `Alpaca rejected the request (${alpacaCode}): ${msg}`);
    this.name = 'AlpacaRejectedError';
    this.alpacaCode = alpacaCode;
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
