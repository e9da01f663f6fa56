import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/strategy.mjs', import.meta.url));

export interface Report {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface ReceivedMessage {
  readonly tag: string;
  readonly binary: boolean;
  readonly length: number;
  readonly sha256: string;
}

export class RemoteError extends Error {
  constructor(
    readonly code: string,
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

/** A real strategy process running @wsproxy/client, remote-controlled by the test over IPC. */
export class StrategyProcess {
  readonly child: ChildProcess;
  readonly reports: Report[] = [];
  private nextCall = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<() => void>();
  readonly exited: Promise<void>;

  constructor(env: NodeJS.ProcessEnv) {
    this.child = fork(FIXTURE, [], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.on('message', (message: Report) => {
      if (message.type === 'result') {
        const call = this.calls.get(message.callId as number);
        this.calls.delete(message.callId as number);
        if (message.ok) call?.resolve(message.result);
        else {
          const error = message.error as { code: string; name: string; message: string };
          call?.reject(new RemoteError(error.code, error.name, error.message));
        }
        return;
      }
      this.reports.push(message);
      for (const listener of this.listeners) listener();
    });
  }

  call<T = Record<string, unknown>>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const callId = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(callId, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ callId, cmd, args });
    });
  }

  messages(tag?: string): ReceivedMessage[] {
    return this.reports.filter(
      (r) => r.type === 'message' && (tag === undefined || r.tag === tag),
    ) as unknown as ReceivedMessage[];
  }

  events(name: string): Report[] {
    return this.reports.filter(
      (r) => (r.type === 'event' || r.type === 'client' || r.type === 'facade') && r.name === name,
    );
  }

  /** Resolves when `predicate` holds over the reports; rejects after `timeoutMs` with what was seen. */
  waitFor(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        const seen = this.reports.map((r) => `${r.type}:${String(r.name ?? r.tag ?? '')}`).slice(-20);
        reject(new Error(`timed out waiting for ${what}; last reports: ${seen.join(' ')}`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
