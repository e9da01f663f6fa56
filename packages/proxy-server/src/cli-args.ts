// The `wsproxy` command line: which options exist, and how their text becomes checked numbers. Every bad option is
// an `InvalidArgumentError` (WSP_ERR_INVALID_ARGUMENT) naming the option and its allowed range, never a raw
// `parseArgs` message and never a value Node would silently clamp (a timer above 2^31-1 ms fires at once).
import { parseArgs } from 'node:util';
import { MAX_TIMER_MS } from './daemon.js';
import { InvalidArgumentError } from './errors.js';

export const CLI_OPTIONS = {
  namespace: { type: 'string' },
  'runtime-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  linger: { type: 'string' },
  'log-level': { type: 'string' },
  'log-max-bytes': { type: 'string' },
  'ring-size': { type: 'string' },
  'max-clients': { type: 'string' },
  'idle-client': { type: 'string' },
  'max-status-bytes': { type: 'string' },
  'ping-interval': { type: 'string' },
  'pong-timeout': { type: 'string' },
  'reconnect-initial': { type: 'string' },
  'reconnect-max': { type: 'string' },
  'reconnect-attempts': { type: 'string' },
  adapter: { type: 'string', multiple: true },
  listen: { type: 'string' },
  'listen-token': { type: 'string' },
  'listen-token-file': { type: 'string' },
  'listen-max-connections': { type: 'string' },
  'listen-max-per-remote': { type: 'string' },
  'listen-buffer': { type: 'string' },
  'listen-auth-timeout': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  metrics: { type: 'string' },
  interval: { type: 'string' },
  count: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  lines: { type: 'string', short: 'n' },
} as const;

export type CliValues = ReturnType<
  typeof parseArgs<{ options: typeof CLI_OPTIONS; allowPositionals: true }>
>['values'];

function optionList(): string {
  return Object.entries(CLI_OPTIONS)
    .map(([name, spec]) => ('short' in spec ? `--${name} (-${spec.short})` : `--${name}`))
    .join(', ');
}

/** `parseArgs`, with its errors (unknown option, missing value, flag given a value) turned into ours. */
export function parseCli(argv: readonly string[]): { values: CliValues; positionals: string[] } {
  try {
    return parseArgs({ args: [...argv], options: CLI_OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const given = argv.find((arg) => arg.startsWith('-') && !isKnown(arg)) ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new InvalidArgumentError(
        `unknown option ${given || '(?)'}; valid options: ${optionList()} (see wsproxy --help)`,
      );
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      // Node says either "requires an argument" or "does not take an argument"; keep its reason, add the list.
      const reason = (error as Error).message.replace(/\. To specify.*$/s, '');
      throw new InvalidArgumentError(`${reason} (see wsproxy --help)`);
    }
    throw error;
  }
}

function isKnown(arg: string): boolean {
  const name = arg.replace(/^--?/, '').split('=')[0]!;
  return Object.entries(CLI_OPTIONS).some(
    ([long, spec]) => long === name || ('short' in spec && spec.short === name),
  );
}

/** A whole number in `[min, max]`, or undefined when the option was not given. */
export function integerOption(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new InvalidArgumentError(
      `--${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

/**
 * `--ring-size`: the ring's own geometry rule (a power of two from 4 KiB to 1 GiB, @wsproxy/shm-queue), checked
 * here too so a bad size is refused before the daemon binds its socket or opens its log.
 */
export function ringSizeOption(value: string | undefined): number | undefined {
  const size = integerOption('ring-size', value, 4096, 2 ** 30);
  if (size !== undefined && (size & (size - 1)) !== 0) {
    throw new InvalidArgumentError(`--ring-size must be a power of two from 4096 to ${2 ** 30}; got ${size}`);
  }
  return size;
}

/** A delay in milliseconds that a Node timer can hold (`min` to 2^31-1). */
export function durationOption(name: string, value: string | undefined, min = 0): number | undefined {
  return integerOption(name, value, min, MAX_TIMER_MS);
}

/** `--linger`: milliseconds, or `never` (a daemon under a service manager that stays until stopped). */
export function lingerOption(value: string | undefined): number | undefined {
  if (value === 'never') return Number.POSITIVE_INFINITY;
  if (value !== undefined && !(/^\d+$/.test(value.trim()) && Number(value) <= MAX_TIMER_MS)) {
    throw new InvalidArgumentError(
      `--linger must be a whole number of milliseconds from 0 to ${MAX_TIMER_MS}, or "never"; got ${JSON.stringify(value)}`,
    );
  }
  return durationOption('linger', value);
}
