import { chmodSync, closeSync, openSync, renameSync, statSync } from 'node:fs';
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

/**
 * The log lives in the runtime folder, which is usually tmpfs (RAM): past this size it is renamed to `<file>.1`
 * (replacing the previous one) and a fresh file is started, so a daemon never holds more than twice this in RAM.
 */
export const DEFAULT_LOG_MAX_BYTES = 8 * 1024 * 1024;
/** Smaller than a few lines would rotate on every write. */
export const MIN_LOG_MAX_BYTES = 4096;

export interface DaemonLoggerOptions {
  /** File to append to; created 0600. `undefined` logs nowhere (tests of pure modules). */
  readonly file?: string;
  readonly level?: LogLevel;
  /** Rotate past this many bytes (default `DEFAULT_LOG_MAX_BYTES`, at least `MIN_LOG_MAX_BYTES`). */
  readonly maxBytes?: number;
}

export interface DaemonLogger {
  readonly logger: Logger;
  setLevel(level: LogLevel): void;
  /** Writes out what is buffered; called on clean shutdown. */
  flush(): void;
  /**
   * Resolves once the file is open and what is buffered is written. A daemon that fails right at start must wait for
   * this before the process exits: pino flushes on exit, and a file still opening makes that throw.
   */
  settled(): Promise<void>;
}

export function createDaemonLogger(options: DaemonLoggerOptions = {}): DaemonLogger {
  const level = assertLogLevel(options.level ?? 'info');
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  if (!options.file) {
    const logger = pino({ level: 'silent', redact });
    const setLevel = (next: LogLevel) => {
      logger.level = assertLogLevel(next);
    };
    return { logger, setLevel, flush: () => {}, settled: () => Promise.resolve() };
  }
  const file = options.file;
  const maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < MIN_LOG_MAX_BYTES) {
    throw new InvalidArgumentError(
      `the log size cap must be a whole number of bytes, at least ${MIN_LOG_MAX_BYTES}; got ${String(maxBytes)}`,
    );
  }
  // Create the file ourselves so it is 0600 even when the umask is permissive.
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
  const rotate = () => {
    try {
      renameSync(file, `${file}.1`);
    } catch {
      // Removed by hand meanwhile: the reopen below starts a fresh file all the same.
    }
  };
  let size = statSync(file).size;
  if (size >= maxBytes) {
    rotate();
    size = 0;
  }
  const destination = pino.destination({ dest: file, sync: false, append: true, mode: 0o600 });
  // Counted from what was written, not polled: an idle daemon does nothing here.
  destination.on('write', (written: number) => {
    size += written;
    if (size < maxBytes) return;
    size = 0;
    rotate();
    // Lines written between the rename and the reopen land at the end of `<file>.1`: none is lost.
    destination.reopen();
  });
  let open = false;
  const opened = new Promise<void>((resolve) => {
    destination.once('ready', () => {
      open = true;
      resolve();
    });
    // A file that cannot be opened has nothing to flush; the error itself is reported by whoever logs next.
    destination.once('error', () => resolve());
  });
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
      if (!open) return;
      try {
        destination.flushSync();
      } catch {
        // A write still in flight; the tail is written by the async path.
      }
    },
    async settled() {
      await opened;
      this.flush();
    },
  };
}
