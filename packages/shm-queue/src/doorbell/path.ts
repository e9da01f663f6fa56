import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DoorbellError } from '../errors.js';

// sun_path is 108 bytes on Linux and 104 on macOS, including the terminating NUL.
const MAX_SOCKET_PATH = process.platform === 'darwin' ? 103 : 107;

/**
 * Where a ring's doorbell socket lives unless told otherwise: `$XDG_RUNTIME_DIR/shm-queue/<ring>.sock`, else
 * `<tmpdir>/shm-queue-<uid>/<ring>.sock`; a named pipe on Windows.
 */
export function defaultDoorbellPath(ringName: string): string {
  if (process.platform === 'win32') return `\\\\.\\pipe\\shm-queue-${ringName}`;
  const runtime = process.env.XDG_RUNTIME_DIR;
  const base = runtime
    ? join(runtime, 'shm-queue')
    : join(tmpdir(), `shm-queue-${process.getuid?.() ?? 'user'}`);
  return join(base, `${ringName}.sock`);
}

const WINDOWS_PIPE = /^\\\\[.?]\\pipe\\./i;

export function checkSocketPath(path: string): void {
  if (process.platform === 'win32' && !WINDOWS_PIPE.test(path)) {
    // Windows has no socket files: Node listens on a named pipe, and a file path fails with a bare EACCES.
    throw new DoorbellError(`on Windows a doorbell path must be a named pipe (\\.pipe<name>), got ${path}`);
  }
  if (process.platform !== 'win32' && Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new DoorbellError(`doorbell socket path is longer than ${MAX_SOCKET_PATH} bytes: ${path}`);
  }
}

/** Makes the socket's folder exist, owned by us and closed to everyone else (0700). */
export function ensurePrivateDirectory(socketPath: string): void {
  if (process.platform === 'win32') return;
  const dir = dirname(socketPath);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new DoorbellError(`cannot create the doorbell folder ${dir}`, error);
  }
  const stats = lstatSync(dir);
  if (!stats.isDirectory()) throw new DoorbellError(`${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new DoorbellError(`doorbell folder ${dir} belongs to uid ${stats.uid}, not to us (${uid})`);
  }
  if ((stats.mode & 0o077) !== 0) {
    throw new DoorbellError(
      `doorbell folder ${dir} is open to other users (mode ${(stats.mode & 0o777).toString(8)}); it must be 0700`,
    );
  }
}
