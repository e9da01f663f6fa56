/**
 * The daemon as the suite sees it: the `wsproxy start` arguments every strategy spawns it with, its status report
 * (the public one `wsproxy status` prints), its pid, and what it leaves on the machine (socket, ring segments).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DaemonStatus } from '@wsproxy/protocol';
import { fetchStatus, ringScope, runtimePaths } from '@wsproxy/proxy-server';
import { type ChannelSet, toChannelSet } from './subscriptions.js';

const require = createRequire(import.meta.url);

/** The alpaca adapter's daemon entry (built), for `--adapter`. */
export const adapterEntry = join(
  dirname(require.resolve('@wsproxy/alpaca-adapter/package.json')),
  'dist',
  'daemon.js',
);

export interface DaemonPlace {
  readonly runtimeDir: string;
  readonly namespace: string;
  /** The drop-in endpoint's port (fixed for the run, so respawned daemons listen where the SDK clients dial). */
  readonly endpointPort: number;
}

/**
 * Short timers so a run sees many recoveries: a half-dead upstream is declared dead within 2.5 s (ping every 1.5 s,
 * 1 s for its pong, instead of 10 + 5 s; on main a pong timeout >= the ping interval never fires, as each ping
 * restarts it), backoff caps at 2 s; a small endpoint buffer so a slow reader overruns it.
 */
export function daemonArgs(place: DaemonPlace): string[] {
  return [
    '--adapter',
    adapterEntry,
    '--listen',
    `127.0.0.1:${place.endpointPort}`,
    '--listen-buffer',
    '65536',
    '--linger',
    '3000',
    '--ping-interval',
    '1500',
    '--pong-timeout',
    '1000',
    '--reconnect-max',
    '2000',
    '--ring-size',
    '4194304',
    '--log-level',
    'warn',
  ];
}

export function socketPathOf(place: DaemonPlace): string {
  return runtimePaths(place.namespace, place.runtimeDir).socketPath;
}

/** The status report, or undefined when no daemon answers (down, restarting). */
export async function readStatus(place: DaemonPlace): Promise<DaemonStatus | undefined> {
  const socketPath = socketPathOf(place);
  if (!existsSync(socketPath)) return undefined;
  try {
    return await fetchStatus(socketPath);
  } catch {
    return undefined;
  }
}

/**
 * THE adapter between the status report and the invariant "each process's view == the daemon's per-client set".
 * Today's report (main) carries no per-client set. The field read is, on each upstream of the report:
 *
 *   upstreams[i].subscriptions: { "<clientId>": { trades: string[], quotes: string[], ... } }
 *
 * (the shape the faults-state branch adds: each member's acknowledged set keyed by client id); an array
 * `upstreams[i].clientSubscriptions: [{ clientId, subscriptions }]` is read too. Returns undefined when no upstream
 * carries either, and the run says the check was skipped.
 */
export function daemonClientSets(status: DaemonStatus): Map<number, ChannelSet> | undefined {
  let found = false;
  const sets = new Map<number, ChannelSet>();
  for (const upstream of status.upstreams as unknown as Record<string, unknown>[]) {
    const field = upstream.subscriptions ?? upstream.clientSubscriptions;
    if (field === undefined || field === null || typeof field !== 'object') continue;
    found = true;
    const entries: [number, unknown][] = Array.isArray(field)
      ? (field as { clientId: number; subscriptions: unknown }[]).map((e) => [
          Number(e.clientId),
          e.subscriptions,
        ])
      : Object.entries(field as Record<string, unknown>).map(([id, s]) => [Number(id), s]);
    for (const [id, subscriptions] of entries) sets.set(id, toChannelSet(subscriptions));
  }
  return found ? sets : undefined;
}

/** The endpoint connection's daemon client id, found by the strategy's local port. */
export function endpointClientId(status: DaemonStatus, localPort: number): number | undefined {
  return status.endpoint?.connections.find((c) => c.remote.endsWith(`:${localPort}`))?.clientId;
}

/** This run's ring segments in /dev/shm (the daemon names them `wsproxy-<scope>-<pid>`). */
export function ringSegments(place: DaemonPlace): string[] {
  const prefix = `wsproxy-${ringScope(place.runtimeDir, place.namespace)}-`;
  try {
    return readdirSync('/dev/shm').filter((name) => name.startsWith(prefix));
  } catch {
    return [];
  }
}

/** Sockets, locks and the like left in the runtime dir (the log may stay: it is the evidence). */
export function runtimeLeftovers(place: DaemonPlace): string[] {
  if (!existsSync(place.runtimeDir)) return [];
  return readdirSync(place.runtimeDir).filter((name) => !name.endsWith('.log'));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` is a daemon of THIS run (a pid the kernel reused for someone else's process must never be hit). */
export function isOurDaemon(pid: number, place: DaemonPlace): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
    return cmdline.includes(place.namespace) || environ.includes(place.runtimeDir);
  } catch {
    return false;
  }
}

/** VmRSS (bytes) and open fds of a process, from /proc. */
export function footprint(pid: number): { rssBytes: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return { rssBytes: kb * 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
}
