import { createHash } from 'node:crypto';
import { readdirSync, unlinkSync } from 'node:fs';
import { processAlive } from './process-alive.js';

/**
 * Ring segment names: `wsproxy-<scope>-<pid>`, where scope is a short hash of (runtime folder, namespace) so two
 * namespaces or two users never collide, and the daemon's pid tells a later daemon whether the owner still lives.
 * Short enough for macOS's 30-character limit.
 */
export function ringScope(runtimeDir: string, namespace: string): string {
  return createHash('sha256').update(`${runtimeDir}\u0000${namespace}`).digest('hex').slice(0, 10);
}

export function ringSegmentName(scope: string, pid: number = process.pid): string {
  return `wsproxy-${scope}-${pid}`;
}

/**
 * Removes segments of this scope whose daemon died without cleaning up (SIGKILL, OOM). Only Linux lists POSIX shm
 * names (in /dev/shm); elsewhere a crashed daemon's segment stays until reboot. Returns the names removed.
 */
export function removeOrphanSegments(scope: string, shmDir = '/dev/shm'): string[] {
  let names: string[];
  try {
    names = readdirSync(shmDir);
  } catch {
    return [];
  }
  const prefix = `wsproxy-${scope}-`;
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
    try {
      unlinkSync(`${shmDir}/${name}`);
      removed.push(name);
    } catch {
      // Removed by someone else meanwhile.
    }
  }
  return removed;
}
