import { InvalidArgumentError } from '../errors.js';

export interface ReconnectOptions {
  /** First retry waits up to this long. Default 250 ms. */
  readonly initialDelayMs?: number;
  /** No retry waits longer than this. Default 30 s. */
  readonly maxDelayMs?: number;
  /** Growth per failed attempt. Default 2. */
  readonly factor?: number;
  /** A connection that stayed up this long resets the attempt count. Default 60 s. */
  readonly resetAfterMs?: number;
  /** Give up after this many consecutive failures. Default Infinity (a daemon keeps trying). */
  readonly maxAttempts?: number;
}

export type ResolvedReconnectOptions = Required<ReconnectOptions>;

export const defaultReconnectOptions: ResolvedReconnectOptions = {
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  factor: 2,
  resetAfterMs: 60_000,
  maxAttempts: Number.POSITIVE_INFINITY,
};

function positive(name: string, value: number, allowInfinity = false): number {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < 0 ||
    (!allowInfinity && !Number.isFinite(value))
  ) {
    throw new InvalidArgumentError(`reconnect.${name} must be a non-negative number; got ${String(value)}`);
  }
  return value;
}

export function resolveReconnectOptions(options: ReconnectOptions = {}): ResolvedReconnectOptions {
  // Undefined means "the default" (the CLI passes every flag, given or not).
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const merged: ResolvedReconnectOptions = { ...defaultReconnectOptions, ...given };
  positive('initialDelayMs', merged.initialDelayMs);
  positive('maxDelayMs', merged.maxDelayMs);
  positive('resetAfterMs', merged.resetAfterMs);
  positive('maxAttempts', merged.maxAttempts, true);
  if (merged.factor < 1)
    throw new InvalidArgumentError(`reconnect.factor must be >= 1; got ${merged.factor}`);
  return merged;
}

/**
 * Exponential backoff with "full jitter" (a uniformly random delay below the exponential ceiling): after an
 * upstream outage every daemon of every user retries at a different moment instead of in lock-step.
 */
export function backoffDelay(
  attempt: number,
  options: ResolvedReconnectOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    options.maxDelayMs,
    options.initialDelayMs * options.factor ** Math.max(0, attempt - 1),
  );
  return Math.floor(random() * ceiling);
}
