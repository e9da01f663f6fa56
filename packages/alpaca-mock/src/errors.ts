/**
 * Every failure the mock reports to its user (not to its WebSocket clients, which get Alpaca's own error frames)
 * is an AlpacaMockError with a stable `code`. Users match on `code`, never on the message.
 */
export class AlpacaMockError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlpacaMockError';
    this.code = code;
  }
}

/**
 * An option passed to `startAlpacaMock` (or a CLI flag), or an argument of a handle method (`refuseUpgrades`,
 * `restart`, `waitFor`, `tickOf`), is missing, of the wrong type or out of range.
 */
export class InvalidOptionError extends AlpacaMockError {
  readonly option: string;
  constructor(option: string, expectation: string) {
    super('ALPACA_MOCK_ERR_INVALID_OPTION', `${option} must be ${expectation}`);
    this.name = 'InvalidOptionError';
    this.option = option;
  }
}

/** The HTTP server could not listen (port in use, host not available). */
export class ListenError extends AlpacaMockError {
  constructor(host: string, port: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('ALPACA_MOCK_ERR_LISTEN', `cannot listen on ${host}:${port}: ${reason}`, { cause });
    this.name = 'ListenError';
  }
}

/** A method that needs a running mock was called after `close()`. */
export class MockClosedError extends AlpacaMockError {
  constructor(what: string) {
    super('ALPACA_MOCK_ERR_CLOSED', `cannot ${what}: the mock is closed`);
    this.name = 'MockClosedError';
  }
}

/** `waitForSession` (or another wait helper) gave up. */
export class WaitTimeoutError extends AlpacaMockError {
  constructor(what: string, timeoutMs: number) {
    super('ALPACA_MOCK_ERR_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = 'WaitTimeoutError';
  }
}

/** The CLI was given an unknown flag or a flag without its value. */
export class UsageError extends AlpacaMockError {
  constructor(message: string) {
    super('ALPACA_MOCK_ERR_USAGE', message);
    this.name = 'UsageError';
  }
}

/** `decodeFrame` was given bytes that are not one valid JSON or msgpack value. */
export class FrameDecodeError extends AlpacaMockError {
  readonly encoding: 'json' | 'msgpack';
  constructor(encoding: 'json' | 'msgpack', cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('ALPACA_MOCK_ERR_DECODE', `not a valid ${encoding} frame: ${reason}`, { cause });
    this.name = 'FrameDecodeError';
    this.encoding = encoding;
  }
}
