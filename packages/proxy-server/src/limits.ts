// The daemon's bounds on what a local peer can make it hold. One daemon carries every strategy of its user, so
// nothing a peer sends may grow its memory, descriptors or queues without limit: each bound here is documented in
// docs/limits.md, with the typed error the one peer that hits it receives.

import { MAX_STATUS_BYTES } from '@wsproxy/protocol';
import { InvalidArgumentError } from './errors.js';

export interface ControlLimits {
  /** Connections that have not said hello yet, at once. Default 64; more get `WSP_ERR_TOO_MANY_CONNECTIONS`. */
  readonly maxPreHelloConnections?: number;
  /** Bytes a connection may send before its hello is complete. Default 64 KiB; more is `WSP_ERR_OVER_LIMIT`. */
  readonly maxPreHelloBytes?: number;
  /** A connection must say hello within this. Default 2000 ms; else `WSP_ERR_HANDSHAKE_REQUIRED`. */
  readonly helloTimeoutMs?: number;
  /**
   * Unread answer bytes queued for one client before the daemon stops reading its requests (back-pressure).
   * Default 1 MiB.
   */
  readonly pauseReadingBytes?: number;
  /** Unread bytes queued for one client before it is closed with `WSP_ERR_SLOW_CONSUMER`. Default 8 MiB. */
  readonly maxQueuedBytes?: number;
  /**
   * A client whose reading stays paused (over `pauseReadingBytes` unread) this long is closed with
   * `WSP_ERR_SLOW_CONSUMER`: it holds its queue and a slot while reading nothing. Default 10000 ms.
   */
  readonly maxStallMs?: number;
  /** Largest status report; a bigger one is cut and says so in `truncated`. Default 1 MiB. */
  readonly maxStatusBytes?: number;
  /**
   * When every reader slot is taken, a client that has held its slot this long without any open connection gives it
   * up to a newcomer (`WSP_ERR_IDLE_TIMEOUT`). Default 30000 ms. No timer runs: this is checked only on a full house.
   */
  readonly idleClientMs?: number;
}

export interface DialLimits {
  /** New upstream dials per account (credential principal) per minute. Default 10; more is `WSP_ERR_RATE_LIMITED`. */
  readonly maxDialsPerAccountPerMinute?: number;
  /**
   * New upstream dials per minute for accounts the upstream has not accepted yet, all together. Default 60. An account
   * once accepted is bounded by `maxDialsPerAccountPerMinute` only, so invented keys cannot lock the user out.
   */
  readonly maxDialsPerMinute?: number;
  /**
   * How long credentials the upstream refused are refused locally, without dialling again. Default 60000 ms.
   */
  readonly authFailureCacheMs?: number;
}

export type ResolvedControlLimits = Required<ControlLimits>;
export type ResolvedDialLimits = Required<DialLimits>;

export const DEFAULT_CONTROL_LIMITS: ResolvedControlLimits = Object.freeze({
  maxPreHelloConnections: 64,
  maxPreHelloBytes: 64 * 1024,
  helloTimeoutMs: 2_000,
  pauseReadingBytes: 1024 * 1024,
  maxQueuedBytes: 8 * 1024 * 1024,
  maxStallMs: 10_000,
  maxStatusBytes: 1024 * 1024,
  idleClientMs: 30_000,
});

export const DEFAULT_DIAL_LIMITS: ResolvedDialLimits = Object.freeze({
  // Above the count of Alpaca's market-data endpoints (about 20 paths, each its own upstream): an account whose
  // strategies open every feed at start must not be refused its own first dials. 10 did exactly that.
  maxDialsPerAccountPerMinute: 30,
  maxDialsPerMinute: 60,
  authFailureCacheMs: 60_000,
});

function positiveIntegers<T extends object>(
  what: string,
  defaults: Required<T>,
  given: T | undefined,
): Required<T> {
  const out: Record<string, number> = { ...(defaults as Record<string, number>) };
  for (const [name, value] of Object.entries(given ?? {})) {
    if (value === undefined) continue;
    if (!Object.hasOwn(defaults, name)) throw new InvalidArgumentError(`unknown ${what} limit ${name}`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new InvalidArgumentError(
        `${what} limit ${name} must be a positive integer; got ${String(value)}`,
      );
    }
    out[name] = value;
  }
  return Object.freeze(out) as Required<T>;
}

export function resolveControlLimits(given?: ControlLimits): ResolvedControlLimits {
  const limits = positiveIntegers('control', DEFAULT_CONTROL_LIMITS, given);
  if (limits.maxStatusBytes > MAX_STATUS_BYTES) {
    throw new InvalidArgumentError(`maxStatusBytes must be at most ${MAX_STATUS_BYTES} (the wire's limit)`);
  }
  if (limits.maxQueuedBytes <= limits.maxStatusBytes) {
    // A client asking for one status must be able to receive it.
    throw new InvalidArgumentError('maxQueuedBytes must be larger than maxStatusBytes');
  }
  return limits;
}

export function resolveDialLimits(given?: DialLimits): ResolvedDialLimits {
  return positiveIntegers('dial', DEFAULT_DIAL_LIMITS, given);
}
