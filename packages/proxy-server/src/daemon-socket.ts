import { chmodSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonAlreadyRunningError, WsproxyServerError } from './errors.js';
import { processAlive } from './process-alive.js';
import type { RuntimePaths } from './runtime-dir.js';

function isErrno(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes((error as NodeJS.ErrnoException).code ?? '');
}

/** True when something accepts connections on the socket: a live daemon, not a file left by a dead one. */
export function socketIsLive(socketPath: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const probe: Socket = connect(socketPath);
    const timer = setTimeout(() => {
      probe.destroy();
      resolve(true); // Accepted but slow: a busy daemon is still a live daemon.
    }, timeoutMs);
    probe.once('connect', () => {
      clearTimeout(timer);
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/**
 * An O_EXCL lock file holding the owner's pid. Held only for the few milliseconds of binding, so several daemons
 * started at the same instant check-and-bind one after another; a lock whose owner died is broken.
 */
async function withBindLock<T>(lockPath: string, work: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
      let owner = Number.NaN;
      try {
        owner = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      } catch {
        // Vanished or half-written: try again.
      }
      if (!Number.isNaN(owner) && !processAlive(owner)) {
        try {
          unlinkSync(lockPath);
        } catch {
          // Someone else broke it first.
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new WsproxyServerError(
          'WSP_ERR_LOCK_TIMEOUT',
          `could not take the bind lock ${lockPath} in time`,
        );
      }
      await sleep(10 + Math.random() * 20);
    }
  }
  try {
    return await work();
  } finally {
    try {
      unlinkSync(lockPath);
    } catch {
      // Already gone; nothing to release.
    }
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Binds the daemon's socket, or throws `DaemonAlreadyRunningError` if a live daemon holds it. This is what makes
 * "8 clients spawn at once" end with one daemon: the losers find the winner's socket live and exit.
 */
export async function bindDaemonSocket(
  paths: RuntimePaths,
  onConnection: (socket: Socket) => void,
): Promise<Server> {
  return withBindLock(paths.lockPath, async () => {
    const server = createServer({ allowHalfOpen: false }, onConnection);
    try {
      await listen(server, paths.socketPath);
    } catch (error) {
      if (!isErrno(error, 'EADDRINUSE')) throw error;
      if (await socketIsLive(paths.socketPath)) throw new DaemonAlreadyRunningError(paths.socketPath);
      // A socket file nobody listens on: its daemon died. Safe to replace while we hold the lock.
      unlinkSync(paths.socketPath);
      await listen(server, paths.socketPath);
    }
    // The folder is already 0700; the socket's own mode is defence in depth.
    chmodSync(paths.socketPath, 0o600);
    return server;
  });
}
