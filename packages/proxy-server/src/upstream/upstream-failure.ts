import { DaemonErrorCode } from '@wsproxy/protocol';

/**
 * Why an upstream is not usable right now, as every affected client hears it: a catalogue code
 * (`DaemonErrorCode`), the vendor's own code when there is one (Alpaca 402/406, the HTTP status of a refused
 * upgrade), and what happened.
 */
export interface UpstreamFailure {
  readonly code: string;
  readonly vendorCode?: number;
  readonly message: string;
  /** The upstream asked us to wait at least this long before dialling again (a 429's `Retry-After`). */
  readonly retryAfterMs?: number;
}

/**
 * The failure an error stands for. Adapters raise errors carrying a catalogue `code` and, where the vendor gave one,
 * a numeric `vendorCode` (the Alpaca adapter does); a code-less error is a bug, so `INTERNAL`.
 */
export function failureOf(error: unknown): UpstreamFailure {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    vendorCode?: unknown;
    retryAfterMs?: unknown;
  };
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof fields.code === 'string' ? fields.code : DaemonErrorCode.INTERNAL;
  return {
    code,
    message,
    ...(typeof fields.vendorCode === 'number' ? { vendorCode: fields.vendorCode } : {}),
    ...(typeof fields.retryAfterMs === 'number' ? { retryAfterMs: fields.retryAfterMs } : {}),
  };
}

/** `Retry-After` in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** An upgrade the upstream answered with an HTTP status instead of switching protocols. */
export function handshakeRefusal(status: number, retryAfter: string | string[] | undefined): UpstreamFailure {
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    return {
      code: DaemonErrorCode.RATE_LIMITED,
      vendorCode: 429,
      message: `rate limited: the upstream answered the upgrade with HTTP 429${
        retryAfterMs === undefined ? '' : ` (Retry-After ${Math.ceil(retryAfterMs / 1000)} s)`
      }`,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  return {
    code: DaemonErrorCode.UPSTREAM_UNREACHABLE,
    vendorCode: status,
    message: `handshake refused with HTTP ${status}`,
  };
}
