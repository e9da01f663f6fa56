// Spawns agent processes and calls role functions in them with a timeout. Every agent is registered for cleanup,
// so no child survives an error, a timeout or the end of the run.
import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CallReply, CallRequest } from './agent.js';
import { onCleanup } from './cleanup.js';
import type { RoleModuleName } from './roles.js';

const agentFile = fileURLToPath(new URL('./agent.ts', import.meta.url));
// Children load TypeScript through tsx's ESM loader, resolved from this package so the child does not depend on
// its working directory.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export class AgentError extends Error {
  override name = 'AgentError';
  constructor(
    message: string,
    readonly code: 'BENCH_ERR_AGENT_TIMEOUT' | 'BENCH_ERR_AGENT_EXITED' | 'BENCH_ERR_AGENT_CALL',
  ) {
    super(message);
  }
}

export interface AgentOptions {
  /** Label for error messages (e.g. "reader 3"). */
  label: string;
  /** Extra environment for the child. */
  env?: Record<string, string>;
  /** Time to start (tsx compiles on first load). */
  startTimeoutMs?: number;
}

export class Agent {
  readonly pid: number;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private exited: string | undefined;
  private readonly dispose: () => void;

  private constructor(
    private readonly child: ChildProcess,
    readonly label: string,
  ) {
    this.pid = child.pid!;
    this.dispose = onCleanup(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    child.on('message', (message) => this.onReply(message as CallReply));
    child.on('exit', (code, signal) => {
      this.exited = `exited (code ${code}, signal ${signal})`;
      for (const [, call] of this.pending) {
        clearTimeout(call.timer);
        call.reject(new AgentError(`${label} ${this.exited} during a call`, 'BENCH_ERR_AGENT_EXITED'));
      }
      this.pending.clear();
      this.dispose();
    });
  }

  static async spawn(options: AgentOptions): Promise<Agent> {
    const child = fork(agentFile, [], {
      execArgv: ['--import', tsxLoader],
      env: { ...process.env, ...options.env },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const agent = new Agent(child, options.label);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new AgentError(`${options.label} did not start in time`, 'BENCH_ERR_AGENT_TIMEOUT'));
      }, options.startTimeoutMs ?? 30_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new AgentError(`${options.label} exited while starting`, 'BENCH_ERR_AGENT_EXITED'));
      });
    });
    return agent;
  }

  /** Calls `fn` of a role module in the agent; rejects after `timeoutMs`. */
  call<R>(module: RoleModuleName, fn: string, args: unknown, timeoutMs = 30_000): Promise<R> {
    if (this.exited) {
      return Promise.reject(new AgentError(`${this.label} ${this.exited}`, 'BENCH_ERR_AGENT_EXITED'));
    }
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // An agent that misses a deadline may be stuck in a busy loop and would never answer again: kill it, so
        // the next case gets a fresh one (AgentPool) instead of waiting out one timeout per call.
        this.child.kill('SIGKILL');
        reject(
          new AgentError(
            `${this.label}: ${module}.${fn} took more than ${timeoutMs} ms`,
            'BENCH_ERR_AGENT_TIMEOUT',
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const request: CallRequest = { id, module, fn, args };
      this.child.send(request);
    });
  }

  private onReply(reply: CallReply | { ready: true }): void {
    if (!('id' in reply)) return;
    const call = this.pending.get(reply.id);
    if (!call) return;
    this.pending.delete(reply.id);
    clearTimeout(call.timer);
    if (reply.ok) call.resolve(reply.value);
    else {
      const err = new AgentError(`${this.label}: ${reply.error.message}`, 'BENCH_ERR_AGENT_CALL');
      err.stack = `${err.stack}\n--- in agent ---\n${reply.error.stack ?? ''}`;
      call.reject(err);
    }
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  /** Closes the IPC channel (the agent exits on its own) and kills it if it is still there after a grace time. */
  async close(graceMs = 2000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}

/** Spawns `count` agents in parallel. */
export async function spawnAgents(count: number, labelPrefix: string): Promise<Agent[]> {
  const agents: Agent[] = [];
  try {
    // Start them a few at a time: tsx start-up is CPU-bound and this machine has 2 cores.
    for (let i = 0; i < count; i += 4) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(4, count - i) }, (_, j) =>
          Agent.spawn({ label: `${labelPrefix} ${i + j}` }),
        ),
      );
      agents.push(...batch);
    }
    return agents;
  } catch (err) {
    await closeAgents(agents);
    throw err;
  }
}

export async function closeAgents(agents: readonly Agent[]): Promise<void> {
  await Promise.all(agents.map((a) => a.close()));
}

/**
 * A fixed set of agent slots that replaces dead agents on demand: after a case breaks (and its stuck agent was
 * killed), the next case starts with healthy processes instead of failing in cascade.
 */
export class AgentPool {
  private readonly agents: (Agent | undefined)[];

  private constructor(
    size: number,
    private readonly labelPrefix: string,
  ) {
    this.agents = new Array(size).fill(undefined);
  }

  static async create(size: number, labelPrefix: string): Promise<AgentPool> {
    const pool = new AgentPool(size, labelPrefix);
    await pool.range(0, size);
    return pool;
  }

  get size(): number {
    return this.agents.length;
  }

  /** Live agents for slots [from, to), respawning dead ones (a few at a time: start-up is CPU-bound). */
  async range(from: number, to: number): Promise<Agent[]> {
    for (let i = from; i < to; i += 4) {
      await Promise.all(
        Array.from({ length: Math.min(4, to - i) }, async (_, j) => {
          const slot = i + j;
          const agent = this.agents[slot];
          if (!agent?.alive) this.agents[slot] = await Agent.spawn({ label: `${this.labelPrefix} ${slot}` });
        }),
      );
    }
    return this.agents.slice(from, to) as Agent[];
  }

  async at(slot: number): Promise<Agent> {
    const [agent] = await this.range(slot, slot + 1);
    return agent!;
  }

  async close(): Promise<void> {
    await closeAgents(this.agents.filter((a): a is Agent => a !== undefined));
  }
}
