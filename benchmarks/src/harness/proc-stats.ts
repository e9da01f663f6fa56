// CPU and memory of OTHER processes, read from /proc the way `top` does, so a measurement never needs the
// measured process's cooperation (a product daemon does not expose its CPU time). Linux only; elsewhere the
// functions return undefined and the callers report "not measured".
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU time of a whole process (all its threads), in microseconds. */
export function cpuTimeUs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may contain spaces and parentheses; the fields we want come after the LAST ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1e6) / ticksPerSecond();
}

function statusKb(pid: number, field: string): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number | undefined {
  return statusKb(pid, 'VmRSS');
}

/**
 * What the resident set is made of (bytes): `anon` is the process's own memory (JS heap, V8, libuv, malloc),
 * `shmem` shared memory it touched (for the daemon: the ring), `file` mapped files (mostly the node binary's own
 * pages, shared with every other node process on the machine).
 */
export function rssBreakdown(pid: number): { anon?: number; shmem?: number; file?: number } {
  return { anon: statusKb(pid, 'RssAnon'), shmem: statusKb(pid, 'RssShmem'), file: statusKb(pid, 'RssFile') };
}

/** Peak resident set size (high-water mark) in bytes. */
export function peakRssBytes(pid: number): number | undefined {
  return statusKb(pid, 'VmHWM');
}

export interface CpuWindow {
  /** Stops the window and returns CPU% per pid (100 = one full core) over its wall time. */
  stop(): Map<number, number | undefined>;
}

/** Starts measuring the CPU share of several processes over the same wall-clock window. */
export function startCpuWindow(pids: readonly number[]): CpuWindow {
  const t0 = process.hrtime.bigint();
  const before = new Map(pids.map((pid) => [pid, cpuTimeUs(pid)]));
  return {
    stop() {
      const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
      const out = new Map<number, number | undefined>();
      for (const pid of pids) {
        const a = before.get(pid);
        const b = cpuTimeUs(pid);
        out.set(pid, a === undefined || b === undefined ? undefined : ((b - a) / wallUs) * 100);
      }
      return out;
    },
  };
}
