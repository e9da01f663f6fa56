import { basename } from 'node:path';
import { DEFAULT_NAMESPACE, runtimeDirFor, validateNamespace } from '@wsproxy/proxy-server';
import type { IdleStrategy } from '@wsproxy/shm-queue';
import { InvalidArgumentError } from './errors.js';

export interface ConnectOptions {
  /** Which daemon: one per user and namespace. Default `$WSPROXY_NAMESPACE` or `"default"`. */
  readonly namespace?: string;
  /** Folder of the daemon's socket. Default `$WSPROXY_RUNTIME_DIR`, `$XDG_RUNTIME_DIR/wsproxy`, or a temp folder. */
  readonly runtimeDir?: string;
  /** Shown by `wsproxy status`. Default: the script's file name. */
  readonly name?: string;
  /** Start the daemon when none runs. Default true. */
  readonly spawn?: boolean;
  /** Extra `wsproxy start` arguments for a daemon this client spawns, e.g. `['--linger', '10000']`. */
  readonly daemonArgs?: readonly string[];
  /** Give up finding or starting the daemon after this long. Default 10000 ms. */
  readonly connectTimeoutMs?: number;
  /** How the data reader waits when idle: `block` (default, no CPU), `backoff`, or `spin` (lowest latency). */
  readonly idle?: IdleStrategy;
  /** After a daemon crash: respawn, reconnect, reopen sockets, restore subscriptions. Default true. */
  readonly recover?: boolean;
}

export interface ResolvedConnectOptions {
  readonly namespace: string;
  readonly runtimeDir: string;
  readonly name: string;
  readonly spawn: boolean;
  readonly daemonArgs: readonly string[];
  readonly connectTimeoutMs: number;
  readonly idle: IdleStrategy;
  readonly recover: boolean;
}

const KNOWN = new Set([
  'namespace',
  'runtimeDir',
  'name',
  'spawn',
  'daemonArgs',
  'connectTimeoutMs',
  'idle',
  'recover',
]);

function check(condition: boolean, message: string): void {
  if (!condition) throw new InvalidArgumentError(message);
}

/** Validates every option before anything starts, so a typo fails at once with a named error. */
export function resolveConnectOptions(options: ConnectOptions = {}): ResolvedConnectOptions {
  check(typeof options === 'object' && options !== null, 'options must be an object');
  for (const key of Object.keys(options)) check(KNOWN.has(key), `unknown option ${JSON.stringify(key)}`);
  const namespace = options.namespace ?? process.env.WSPROXY_NAMESPACE ?? DEFAULT_NAMESPACE;
  try {
    validateNamespace(namespace);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  const runtimeDir = options.runtimeDir ?? runtimeDirFor();
  check(typeof runtimeDir === 'string' && runtimeDir.length > 0, 'runtimeDir must be a non-empty string');
  const name = options.name ?? basename(process.argv[1] ?? 'node');
  check(typeof name === 'string', 'name must be a string');
  const spawn = options.spawn ?? true;
  check(typeof spawn === 'boolean', 'spawn must be a boolean');
  const daemonArgs = options.daemonArgs ?? [];
  check(
    Array.isArray(daemonArgs) && daemonArgs.every((arg) => typeof arg === 'string'),
    'daemonArgs must be an array of strings',
  );
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  check(
    Number.isFinite(connectTimeoutMs) && connectTimeoutMs > 0,
    'connectTimeoutMs must be a positive number of milliseconds',
  );
  const idle = options.idle ?? 'block';
  check(
    idle === 'block' || idle === 'spin' || idle === 'backoff',
    "idle must be 'block', 'spin' or 'backoff'",
  );
  const recover = options.recover ?? true;
  check(typeof recover === 'boolean', 'recover must be a boolean');
  return {
    namespace,
    runtimeDir,
    name: name.slice(0, 256),
    spawn,
    daemonArgs,
    connectTimeoutMs,
    idle,
    recover,
  };
}

export interface OpenOptions {
  /** Upgrade request headers, e.g. `{ 'APCA-API-KEY-ID': key, 'APCA-API-SECRET-KEY': secret }`. */
  readonly headers?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;
  /** Credentials for the adapter (e.g. Alpaca's auth message); also select and guard the shared connection. */
  readonly credentials?: { readonly key: string; readonly secret: string };
  /** Adapter name in the daemon; default passthrough (every frame to every client). */
  readonly adapter?: string;
  /**
   * Where the daemon can load `adapter` from if it has no adapter of that name yet: an absolute path to a file or a
   * package specifier (resolved from the daemon's installation; an absolute path works wherever things are
   * installed). This makes the open work whichever process started the daemon, with or without `--adapter`. Ignored
   * by daemons older than protocol version 2 (they answer `WSP_ERR_UNKNOWN_ADAPTER` when they lack the adapter).
   */
  readonly adapterModule?: string;
}

export function resolveOpenHeaders(options: OpenOptions): Array<[string, string]> {
  const headers = options.headers ?? {};
  const pairs: Array<[string, string]> = Array.isArray(headers)
    ? (headers as ReadonlyArray<readonly [string, string]>).map(([name, value]) => [name, value])
    : Object.entries(headers as Record<string, string>);
  for (const [name, value] of pairs) {
    check(
      typeof name === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name),
      `header name ${JSON.stringify(name)} is not a valid HTTP token`,
    );
    check(
      typeof value === 'string' && !/[\r\n\0]/.test(value),
      `header ${name} must be a string without CR, LF or NUL`,
    );
  }
  return pairs;
}

export function checkOpenOptions(options: OpenOptions): void {
  check(typeof options === 'object' && options !== null, 'open options must be an object');
  for (const key of Object.keys(options)) {
    check(
      ['headers', 'credentials', 'adapter', 'adapterModule'].includes(key),
      `unknown open option ${JSON.stringify(key)}`,
    );
  }
  const { credentials, adapter, adapterModule } = options;
  if (credentials !== undefined) {
    check(
      typeof credentials === 'object' &&
        credentials !== null &&
        typeof credentials.key === 'string' &&
        typeof credentials.secret === 'string',
      'credentials must be { key: string, secret: string }',
    );
  }
  if (adapter !== undefined) check(typeof adapter === 'string', 'adapter must be a string');
  if (adapterModule !== undefined) {
    check(typeof adapterModule === 'string', 'adapterModule must be a string');
    check(
      adapterModule === '' || (typeof adapter === 'string' && adapter !== ''),
      'adapterModule needs adapter: the name of the adapter to load from it',
    );
  }
}
