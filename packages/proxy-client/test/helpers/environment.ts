import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectOptions, connect, type WsproxyClient } from '@wsproxy/client';
import { StrategyProcess } from './strategy-process.js';

/** Short linger and backoff so lifecycle tests finish quickly. */
export const FAST_DAEMON_ARGS = ['--linger', '400', '--reconnect-initial', '50', '--reconnect-max', '300'];

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A private runtime folder and namespace per test, so tests never meet each other's daemon, and a cleanup that
 * kills every process and removes every socket, log and shared-memory segment the test caused.
 */
export class TestEnvironment {
  readonly runtimeDir: string;
  readonly namespace: string;
  readonly strategies: StrategyProcess[] = [];
  readonly clients: WsproxyClient[] = [];

  constructor(readonly daemonArgs: readonly string[] = FAST_DAEMON_ARGS) {
    this.runtimeDir = mkdtempSync(join(tmpdir(), 'wsp-'));
    chmodSync(this.runtimeDir, 0o700);
    this.namespace = `t${randomBytes(4).toString('hex')}`;
  }

  get socketPath(): string {
    return join(this.runtimeDir, `${this.namespace}.sock`);
  }

  get logPath(): string {
    return join(this.runtimeDir, `${this.namespace}.log`);
  }

  get connectOptions(): ConnectOptions {
    return { runtimeDir: this.runtimeDir, namespace: this.namespace, daemonArgs: [...this.daemonArgs] };
  }

  /** A strategy process, not yet connected. */
  strategy(): StrategyProcess {
    const strategy = new StrategyProcess({
      WSPROXY_RUNTIME_DIR: this.runtimeDir,
      WSPROXY_NAMESPACE: this.namespace,
    });
    this.strategies.push(strategy);
    return strategy;
  }

  /** A strategy process connected to the daemon (spawning it if needed). */
  async connectedStrategy(): Promise<{ strategy: StrategyProcess; daemonPid: number }> {
    const strategy = this.strategy();
    const { daemonPid } = await strategy.call<{ daemonPid: number }>('connect', {
      options: this.connectOptions,
    });
    return { strategy, daemonPid };
  }

  /** An in-process client (for tests that inspect the API itself). */
  async client(options: ConnectOptions = {}): Promise<WsproxyClient> {
    const client = await connect({ ...this.connectOptions, ...options });
    this.clients.push(client);
    return client;
  }

  /** Pids of every daemon that started in this environment, from the log. */
  daemonPids(): number[] {
    if (!existsSync(this.logPath)) return [];
    const pids = new Set<number>();
    for (const line of readFileSync(this.logPath, 'utf8').split('\n')) {
      if (!line.includes('"daemon started"')) continue;
      pids.add((JSON.parse(line) as { pid: number }).pid);
    }
    return [...pids];
  }

  /** Every live `wsproxy start` process serving this environment (Linux: from /proc), winners and losers alike. */
  daemonProcesses(): number[] {
    const out: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        if (argv.includes('start') && argv.includes(this.runtimeDir)) out.push(Number(entry));
      } catch {
        // Exited while we looked.
      }
    }
    return out;
  }

  liveDaemonPids(): number[] {
    return this.daemonPids().filter(isAlive);
  }

  /** Every daemon pid seen so far (the log may miss one killed before its first line was flushed). */
  private readonly seenPids = new Set<number>();

  /** Segments in /dev/shm that belong to this environment's daemons. */
  segments(): string[] {
    for (const pid of [...this.daemonPids(), ...this.daemonProcesses()]) this.seenPids.add(pid);
    const pids = new Set([...this.seenPids].map(String));
    try {
      return readdirSync('/dev/shm').filter(
        (name) => name.startsWith('wsproxy-') && pids.has(name.split('-').pop()!),
      );
    } catch {
      return [];
    }
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.close().catch(() => {})));
    await Promise.all(this.strategies.map((strategy) => strategy.kill()));
    for (const pid of new Set([...this.liveDaemonPids(), ...this.daemonProcesses()]))
      process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 5_000;
    while (this.liveDaemonPids().length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    for (const name of this.segments()) unlinkSync(join('/dev/shm', name));
    rmSync(this.runtimeDir, { recursive: true, force: true });
  }
}

export async function eventually(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
