// The product side of the proxy suite: K client agents using @wsproxy/client against one daemon (spawned by the
// first client, as in real use), in a private namespace and runtime folder so it never meets another daemon.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent } from '../harness/agent-pool.js';
import { onCleanup } from '../harness/cleanup.js';
import type { TallySummary } from '../harness/records.js';
import type { ProxyRoute } from './proxy-throughput.js';

const RUN_TIMEOUT_MS = 90_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface ProductSessionOptions {
  /** Appended to the namespace, so two suites never share a daemon. */
  readonly namespaceSuffix?: string;
  /** More `wsproxy start` arguments for the daemon the first client spawns (e.g. `--metrics`). */
  readonly daemonArgs?: readonly string[];
}

export class ProductSession {
  readonly namespace: string;
  daemonPid: number | undefined;
  private readonly connected = new Set<Agent>();
  private readonly clientPids = new Map<Agent, number>();
  private disposeDaemon: (() => void) | undefined;

  private readonly extraDaemonArgs: readonly string[];

  constructor(
    readonly runtimeDir: string,
    options: ProductSessionOptions = {},
  ) {
    this.namespace = `bench-${process.pid}${options.namespaceSuffix ?? ''}`;
    this.extraDaemonArgs = options.daemonArgs ?? [];
  }

  /** Makes exactly `clients` connected to the daemon (the first one spawns it), disconnecting any others. */
  async connectExactly(clients: readonly Agent[]): Promise<void> {
    for (const agent of [...this.connected]) {
      if (agent.alive && clients.includes(agent)) continue;
      this.connected.delete(agent);
      if (agent.alive) await agent.call('proxy', 'clientDisconnect', {});
    }
    const missing = clients.filter((c) => !this.connected.has(c));
    // The first connect spawns the daemon; the others then find it.
    if (this.daemonPid === undefined && missing.length > 0) await this.connectOne(missing.shift()!);
    await Promise.all(missing.map((c) => this.connectOne(c)));
  }

  private async connectOne(agent: Agent): Promise<void> {
    const { pid, daemonPid } = await agent.call<{ pid: number; daemonPid: number }>(
      'proxy',
      'clientConnect',
      {
        namespace: this.namespace,
        runtimeDir: this.runtimeDir,
        // Linger past the hub's turns so the daemon is not respawned between rounds.
        daemonArgs: ['--linger', '120000', '--log-level', 'warn', ...this.extraDaemonArgs],
      },
      60_000,
    );
    this.connected.add(agent);
    this.clientPids.set(agent, pid);
    if (this.daemonPid !== daemonPid) {
      this.daemonPid = daemonPid;
      this.disposeDaemon?.();
      // A daemon outliving the session would be a leak: kill it at exit whatever happens.
      this.disposeDaemon = onCleanup(() => {
        if (alive(daemonPid)) process.kill(daemonPid, 'SIGKILL');
      });
    }
  }

  route(): ProxyRoute {
    return {
      name: 'wsproxy (daemon + client)',
      kind: 'product',
      lossy: true,
      connect: async (url, clients) => {
        await Promise.all(clients.map((c) => c.call('proxy', 'clientOpen', { url }, 60_000)));
      },
      finish: (clients) =>
        Promise.all(
          clients.map((c) =>
            c.call<TallySummary & { gaps: number }>('proxy', 'clientFinish', {}, RUN_TIMEOUT_MS),
          ),
        ),
      teardown: async () => {},
    };
  }

  /** Disconnects every client and stops the daemon (SIGTERM: it closes upstreams and removes its segments). */
  async close(): Promise<void> {
    for (const agent of this.connected) {
      if (agent.alive) await agent.call('proxy', 'clientDisconnect', {}).catch(() => {});
    }
    this.connected.clear();
    const pid = this.daemonPid;
    if (pid === undefined) return;
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    this.disposeDaemon?.();
  }
}
