import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { daemonEntryPath, EXIT_ALREADY_RUNNING, type RuntimePaths } from '@wsproxy/proxy-server';
import { DaemonSpawnError, DaemonUnavailableError } from './errors.js';

export interface SpawnSettings {
  /** Spawn the daemon when none answers. Default true. */
  readonly enabled: boolean;
  /** Extra arguments for `wsproxy start` (e.g. `['--linger', '500']`). */
  readonly args: readonly string[];
  readonly namespace: string;
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? '';
}

function tryConnect(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const onError = (error: Error) => reject(error);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/**
 * Starts `wsproxy start` detached, so the daemon outlives this process and serves later ones. Several clients may
 * do this at once: the daemons race for the socket under a lock and all but one exit with EXIT_ALREADY_RUNNING.
 */
function spawnDaemon(
  paths: RuntimePaths,
  settings: SpawnSettings,
): { exited: () => number | null | undefined } {
  const child = spawn(
    process.execPath,
    [
      daemonEntryPath,
      'start',
      '--namespace',
      settings.namespace,
      '--runtime-dir',
      paths.dir,
      ...settings.args,
    ],
    { detached: true, stdio: 'ignore', env: process.env },
  );
  let exitCode: number | null | undefined;
  child.once('exit', (code, signal) => {
    exitCode = code ?? (signal ? -1 : null);
  });
  child.once('error', () => {
    exitCode = -1;
  });
  child.unref();
  return { exited: () => exitCode };
}

/**
 * Connects to the namespace's daemon, spawning it if nobody answers (no socket file, or a stale one left by a killed
 * daemon: connect fails with ENOENT / ECONNREFUSED). Retries with a short backoff until the daemon is up.
 */
export async function connectToDaemon(
  paths: RuntimePaths,
  settings: SpawnSettings,
  timeoutMs: number,
): Promise<{ socket: Socket; spawned: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let spawned: { exited: () => number | null | undefined } | undefined;
  let delay = 5;
  let lastError = '';
  for (;;) {
    try {
      return { socket: await tryConnect(paths.socketPath), spawned: spawned !== undefined };
    } catch (error) {
      const code = errnoOf(error);
      lastError = code || (error as Error).message;
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED' && code !== 'EAGAIN') {
        throw new DaemonUnavailableError(paths.socketPath, lastError, { cause: error });
      }
    }
    if (!settings.enabled)
      throw new DaemonUnavailableError(paths.socketPath, `${lastError}; spawning is disabled`);
    if (spawned === undefined) {
      spawned = spawnDaemon(paths, settings);
    } else {
      const exitCode = spawned.exited();
      // Ours lost the race to a daemon that has exited since, or lingered out before we got in: spawn again.
      if (exitCode === EXIT_ALREADY_RUNNING || exitCode === 0) spawned = spawnDaemon(paths, settings);
      else if (exitCode !== undefined) throw new DaemonSpawnError(paths, exitCode);
    }
    if (Date.now() > deadline) {
      throw new DaemonUnavailableError(
        paths.socketPath,
        `no daemon answered within ${timeoutMs} ms (${lastError})`,
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}
