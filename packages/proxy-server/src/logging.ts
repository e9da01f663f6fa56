import { chmodSync, closeSync, openSync } from 'node:fs';
import { type Logger, pino } from 'pino';
import { InvalidArgumentError } from './errors.js';
import { CREDENTIAL_HEADERS } from './upstream/credential-identity.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Secrets must never reach the log file. The daemon does not log them on purpose; these paths are the safety net
 * for an object logged carelessly (an open request, a headers map, an upstream options bag).
 */
const REDACT_PATHS = [
  'credentials',
  '*.credentials',
  'secret',
  '*.secret',
  // The headers that guard an upstream connection are exactly the ones that must not be logged.
  ...[...CREDENTIAL_HEADERS].flatMap((name) => [`headers["${name}"]`, `*.headers["${name}"]`]),
];

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

export function assertLogLevel(value: unknown): LogLevel {
  if (!isLogLevel(value)) {
    throw new InvalidArgumentError(`log level must be one of ${LOG_LEVELS.join(', ')}; got ${String(value)}`);
  }
  return value;
}

export interface DaemonLoggerOptions {
  /** File to append to; created 0600. `undefined` logs nowhere (tests of pure modules). */
  readonly file?: string;
  readonly level?: LogLevel;
}

export interface DaemonLogger {
  readonly logger: Logger;
  setLevel(level: LogLevel): void;
  /** Writes out what is buffered; called on clean shutdown. */
  flush(): void;
}

export function createDaemonLogger(options: DaemonLoggerOptions = {}): DaemonLogger {
  const level = assertLogLevel(options.level ?? 'info');
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  if (!options.file) {
    const logger = pino({ level: 'silent', redact });
    const setLevel = (next: LogLevel) => {
      logger.level = assertLogLevel(next);
    };
    return { logger, setLevel, flush: () => {} };
  }
  // Create the file ourselves so it is 0600 even when the umask is permissive.
  closeSync(openSync(options.file, 'a', 0o600));
  chmodSync(options.file, 0o600);
  const destination = pino.destination({ dest: options.file, sync: false, append: true, mode: 0o600 });
  // pino children copy the level when created; keep them so a runtime level change reaches all of them. Every
  // control connection makes a child, so a collected child's reference is dropped as soon as the collector runs:
  // pruning only on a level change let thousands of dead references pile up.
  const children = new Set<WeakRef<Logger>>();
  const collected = new FinalizationRegistry<WeakRef<Logger>>((ref) => children.delete(ref));
  const logger = pino(
    {
      level,
      redact,
      base: { pid: process.pid },
      onChild: (child) => {
        const ref = new WeakRef(child);
        children.add(ref);
        collected.register(child, ref);
      },
    },
    destination,
  );
  return {
    logger,
    setLevel(next) {
      const checked = assertLogLevel(next);
      logger.level = checked;
      for (const ref of children) {
        const child = ref.deref();
        if (child) child.level = checked;
        else children.delete(ref);
      }
      logger.info({ level: checked }, 'log level changed');
    },
    flush() {
      try {
        destination.flushSync();
      } catch {
        // Not yet open (an error this early has nowhere better to go); dropping the tail is acceptable.
      }
    },
  };
}
