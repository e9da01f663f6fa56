/**
 * The harness's side of the strategy processes: forks them, talks to them over IPC, and keeps each one's TIMELINE
 * (views from its acks, the windows in which it was told it may lose data, what it received, when it was stopped)
 * for the invariants. A slot is a role (shm-0, endpoint-3, ...); each respawn in it is a new life.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command, Report } from './strategies/messages.js';
import { type ChannelSet, emptySet } from './subscriptions.js';

const here = dirname(fileURLToPath(import.meta.url));

export type StrategyKind = 'shm' | 'endpoint-msgpack' | 'endpoint-json';

export interface Window {
  from: number;
  to: number | undefined;
  why: string;
}

/** One process's life, from fork to exit. */
export class Life {
  readonly views: { at: number; set: ChannelSet }[] = [];
  readonly windows: Window[] = [];
  readonly gaps: { at: number; info: unknown }[] = [];
  /** Item key -> every time it arrived. */
  readonly received = new Map<string, number[]>();
  readonly events: { at: number; name: string; detail: unknown }[] = [];
  readonly startedAt = Date.now();
  endedAt: number | undefined;
  /** Why it ended, when the harness ended it (a killed life's losses are expected). */
  endedBy: string | undefined;

  constructor(
    readonly name: string,
    readonly kind: StrategyKind,
    readonly child: ChildProcess,
  ) {
    // Until it is first whole (ack or authenticated), a life may miss anything.
    this.windows.push({ from: this.startedAt, to: undefined, why: 'starting' });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get alive(): boolean {
    return this.endedAt === undefined;
  }

  /** The view at a time: the set of the last ack at or before it. */
  viewAt(at: number): ChannelSet {
    let set = emptySet();
    for (const v of this.views) {
      if (v.at > at) break;
      set = v.set;
    }
    return set;
  }

  get view(): ChannelSet {
    return this.views.at(-1)?.set ?? emptySet();
  }

  get openWindow(): Window | undefined {
    const last = this.windows.at(-1);
    return last && last.to === undefined ? last : undefined;
  }
}

export interface ForkOptions {
  readonly name: string;
  readonly kind: StrategyKind;
  readonly env: Record<string, string>;
}

/** What the harness asks of a life; every request has a deadline so a hang is a finding, not a stuck run. */
export class Strategy {
  private nextReq = 1;
  private readonly waiting = new Map<number, (report: Report) => void>();
  readonly life: Life;

  constructor(options: ForkOptions) {
    const script = options.kind === 'shm' ? 'shm-strategy.ts' : 'endpoint-strategy.ts';
    const child = fork(join(here, 'strategies', script), [], {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        ...options.env,
        CHAOS_NAME: options.name,
        CHAOS_ENCODING: options.kind === 'endpoint-json' ? 'json' : 'msgpack',
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.life = new Life(options.name, options.kind, child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('message', (message: Report) => this.onReport(message));
    child.once('exit', (code, signal) => {
      const life = this.life;
      life.endedAt ??= Date.now();
      life.events.push({ at: Date.now(), name: 'exit', detail: { code, signal, stderr: stderr.trim() } });
      for (const resolve of this.waiting.values())
        resolve({ type: 'event', name: 'exit', detail: null, at: 0 });
      this.waiting.clear();
    });
  }

  private onReport(message: Report): void {
    const life = this.life;
    switch (message.type) {
      case 'data':
        for (const [key, at] of message.items) {
          const list = life.received.get(key);
          if (list) list.push(at);
          else life.received.set(key, [at]);
        }
        return;
      case 'answer':
        life.views.push({ at: message.at, set: message.view });
        if (!message.ok) life.events.push({ at: message.at, name: 'refused', detail: message });
        break;
      case 'window':
        if (message.edge === 'open') {
          if (!life.openWindow) life.windows.push({ from: message.at, to: undefined, why: message.why });
        } else {
          const open = life.openWindow;
          if (open) open.to = message.at;
        }
        return;
      case 'gap':
        life.gaps.push({ at: message.at, info: message.info });
        return;
      case 'event':
        life.events.push({ at: message.at, name: message.name, detail: message.detail });
        return;
      case 'ready':
        life.events.push({ at: message.at, name: 'ready', detail: null });
        return;
      case 'view':
        break;
    }
    if ('req' in message) {
      const resolve = this.waiting.get(message.req);
      this.waiting.delete(message.req);
      resolve?.(message);
    }
  }

  /** Sends a command and waits for its answer; undefined after `timeoutMs` or if the process is gone. */
  request(
    command:
      | { op: 'change'; action: 'subscribe' | 'unsubscribe'; set: Partial<ChannelSet> }
      | { op: 'report' },
    timeoutMs: number,
  ): Promise<Report | undefined> {
    if (!this.life.alive || !this.life.child.connected) return Promise.resolve(undefined);
    const req = this.nextReq++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(req);
        resolve(undefined);
      }, timeoutMs);
      this.waiting.set(req, (report) => {
        clearTimeout(timer);
        resolve(report.type === 'event' ? undefined : report);
      });
      this.life.child.send({ ...command, req } as Command);
    });
  }

  tell(command: Extract<Command, { op: 'stop-reading' | 'exit' }>): void {
    if (this.life.alive && this.life.child.connected) this.life.child.send(command);
  }

  signal(signal: NodeJS.Signals, why: string): void {
    if (!this.life.alive) return;
    if (signal === 'SIGKILL') {
      this.life.endedAt = Date.now();
      this.life.endedBy = why;
    }
    this.life.child.kill(signal);
  }

  /** Asks it to close cleanly; SIGKILL (by pid) after `graceMs`. Resolves once it has exited. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.life.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.life.endedBy ??= 'end of run';
    this.tell({ op: 'exit' });
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
