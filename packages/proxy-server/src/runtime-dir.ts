import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { InsecureRuntimeDirError, InvalidArgumentError } from './errors.js';

/** Namespaces become file names, so they are restricted to a safe, portable alphabet. */
const NAMESPACE_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export const DEFAULT_NAMESPACE = 'default';

/** Every file a daemon of one namespace owns inside the runtime folder. */
export interface RuntimePaths {
  /** The 0700 folder holding everything below. */
  readonly dir: string;
  /** The daemon's Unix socket (0600); finding it is how clients find the daemon. */
  readonly socketPath: string;
  /** pino's log file. */
  readonly logPath: string;
  /** O_EXCL lock taken while a daemon binds the socket, so two starting daemons never both win. */
  readonly lockPath: string;
}

export function validateNamespace(namespace: string): string {
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace) || namespace.startsWith('.')) {
    throw new InvalidArgumentError(
      `namespace must be 1-64 characters of [A-Za-z0-9._-] not starting with "."; got ${JSON.stringify(namespace)}`,
    );
  }
  return namespace;
}

function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : userInfo().uid;
}

/**
 * Where this user's daemons live: `$WSPROXY_RUNTIME_DIR` (tests, service managers), else
 * `$XDG_RUNTIME_DIR/wsproxy` (per-user tmpfs on systemd machines), else a per-uid folder in the OS temp dir.
 */
export function runtimeDirFor(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WSPROXY_RUNTIME_DIR) return env.WSPROXY_RUNTIME_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'wsproxy');
  return join(tmpdir(), `wsproxy-${currentUid()}`);
}

export function runtimePaths(namespace: string, dir: string = runtimeDirFor()): RuntimePaths {
  validateNamespace(namespace);
  return {
    dir,
    socketPath: join(dir, `${namespace}.sock`),
    logPath: join(dir, `${namespace}.log`),
    lockPath: join(dir, `${namespace}.lock`),
  };
}

/**
 * Creates the runtime folder 0700 if needed and refuses one that another user could tamper with: in a shared
 * temp dir an attacker could pre-create it and then read our socket traffic or plant a fake daemon socket.
 */
export function ensureRuntimeDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (stat.isSymbolicLink()) throw new InsecureRuntimeDirError(dir, 'it is a symbolic link');
  if (!stat.isDirectory()) throw new InsecureRuntimeDirError(dir, 'it is not a directory');
  if (process.platform === 'win32') return;
  const uid = currentUid();
  if (stat.uid !== uid) throw new InsecureRuntimeDirError(dir, `it is owned by uid ${stat.uid}, not ${uid}`);
  if ((stat.mode & 0o077) !== 0) {
    throw new InsecureRuntimeDirError(
      dir,
      `its mode is ${(stat.mode & 0o777).toString(8)}; it must not be accessible to group or others (chmod 700)`,
    );
  }
}
