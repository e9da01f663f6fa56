import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Segment } from '../src/index.js';

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A recognisable, unique segment name; CI looks for leftovers starting with "wsproxy". */
export function ringName(label: string): string {
  return `wsproxy-test-${process.pid}-${label}-${Math.random().toString(36).slice(2, 8)}`;
}

export function shmLeftovers(): string[] {
  if (process.platform !== 'linux') return [];
  return readdirSync('/dev/shm').filter((entry) => entry.startsWith(`wsproxy-test-${process.pid}-`));
}

/** Tracks what a test creates so afterEach can remove it even when the test failed half-way. */
export class Cleanup {
  readonly #children = new Set<ChildProcess>();
  readonly #names = new Set<string>();
  readonly #dirs = new Set<string>();
  readonly #closers: Array<() => unknown> = [];

  name(label: string): string {
    const name = ringName(label);
    this.#names.add(name);
    return name;
  }

  dir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'shmq-test-'));
    this.#dirs.add(dir);
    return dir;
  }

  /** A doorbell path of its own: a socket file in a fresh folder, or a named pipe on Windows (which has no files). */
  socketPath(): string {
    if (process.platform === 'win32') return `\\\\.\\pipe\\${ringName('doorbell')}`;
    return join(this.dir(), 'doorbell.sock');
  }

  defer(close: () => unknown): void {
    this.#closers.push(close);
  }

  spawn(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
    const child = spawn(process.execPath, [join(fixtures, script), ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return new Child(child);
  }

  async run(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) {
      try {
        await close();
      } catch {
        // Best effort: the test already failed or closed it itself.
      }
    }
    await Promise.all(
      [...this.#children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            // A paused (SIGSTOPped) child must be woken to die; Windows has neither signal, only termination.
            if (process.platform !== 'win32') child.kill('SIGCONT');
            child.kill('SIGKILL');
          }),
      ),
    );
    this.#children.clear();
    for (const name of this.#names) {
      try {
        Segment.unlink(name);
      } catch {
        // Not there.
      }
    }
    this.#names.clear();
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    this.#dirs.clear();
  }
}

/** A child process speaking JSON lines on stdin/stdout. */
export class Child {
  readonly process: ChildProcess;
  readonly #queue: Array<Record<string, unknown>> = [];
  readonly #waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(child: ChildProcess) {
    this.process = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.#queue.push(JSON.parse(line) as Record<string, unknown>);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  send(message: Record<string, unknown>): void {
    this.process.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  /** The next message with this `event`, failing if the child exits first or the time runs out. */
  async next<T = Record<string, unknown>>(event: string, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#queue.findIndex((message) => message.event === event);
      if (index >= 0) return this.#queue.splice(index, 1)[0] as T;
      if (this.process.exitCode !== null || this.process.signalCode !== null) {
        throw new Error(`child ${this.pid} exited before sending "${event}"`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for "${event}" from child ${this.pid}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        const onExit = () => resolve();
        this.process.once('exit', onExit);
        this.#waiters.push(() => {
          clearTimeout(timer);
          this.process.off('exit', onExit);
          resolve();
        });
      });
    }
  }
}
