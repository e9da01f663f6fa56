// The real parts samples run against: the Alpaca mock on 127.0.0.1, a private wsproxy runtime folder, child
// processes whose output we watch, and the cleanup that stops every daemon and checks its ring segment is gone.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';

const require = createRequire(import.meta.url);

function binOf(pkg: string, name: string): string {
  const manifest = require.resolve(`${pkg}/package.json`);
  const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin[name];
  if (!bin) throw new Error(`${pkg} has no bin ${name}`);
  return join(dirname(manifest), bin);
}

/** Commands the docs name, as this workspace installs them (what `npx <name>` runs in a project that has them). */
export const bins: Record<string, string> = {
  wsproxy: binOf('@wsproxy/proxy-server', 'wsproxy'),
  'alpaca-mock': binOf('@wsproxy/alpaca-mock', 'alpaca-mock'),
};

/**
 * Adapter modules named by their package specifier, as a flat `npm install` would resolve them. The daemon resolves
 * `--adapter` specifiers from its own install location, and in this pnpm workspace `@wsproxy/proxy-server` cannot see
 * `@wsproxy/alpaca-adapter`, though a flat npm install can.
 */
export const adapterModules: Record<string, string> = {
  '@wsproxy/alpaca-adapter/daemon': join(
    dirname(require.resolve('@wsproxy/alpaca-adapter/package.json')),
    'dist',
    'daemon.js',
  ),
};

export const MOCK_KEYS = { APCA_API_KEY_ID: 'mock-key', APCA_API_SECRET_KEY: 'mock-secret' } as const;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Watched {
  readonly child: ChildProcess;
  readonly command: string;
  stdout(): string;
  stderr(): string;
  /** Resolves when every pattern has matched stdout+stderr; rejects on exit or timeout, with the output. */
  waitFor(patterns: RegExp[], timeoutMs: number): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal`, waits up to `graceMs`, then SIGKILLs; resolves with how it exited. */
  stop(
    signal?: NodeJS.Signals,
    graceMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function watch(
  file: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; nodeArgs?: string[] },
): Watched {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), file, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const command = [file, ...args].join(' ');
  const describe = () => `${command}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`;
  const watched: Watched = {
    child,
    command,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(patterns, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (patterns.every((p) => p.test(out + err))) {
            done();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${patterns.join(' and ')} within ${timeoutMs} ms from ${describe()}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then(({ code, signal }) => {
          if (!listeners.has(check)) return;
          check();
          if (!listeners.has(check)) return;
          done();
          reject(new Error(`exited (${code ?? signal}) before ${patterns.join(' and ')}: ${describe()}`));
        });
        check();
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
  return watched;
}

/** A private world for one sample: a mock, a 0700 runtime folder, and everything started in it. */
export class World {
  readonly runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-doc-samples-'));
  /** A scratch folder a command runs in (e.g. holding cert.pem / key.pem). */
  readonly workDir = mkdtempSync(join(tmpdir(), 'wsproxy-doc-samples-cwd-'));
  private readonly children: Watched[] = [];
  /** Segments that existed before this world: anything else named wsproxy* whose daemon is gone is ours. */
  private readonly shmBefore = new Set(listShm());
  private constructor(readonly mock: AlpacaMock) {}

  static async create(): Promise<World> {
    return new World(await startAlpacaMock({ rate: 50 }));
  }

  /** What a sample reads: Alpaca's env pointed at the mock, the mock keys, this world's runtime folder. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ...MOCK_KEYS,
      APCA_API_STREAM_URL: this.mock.url,
      WSPROXY_ALPACA_DATA_URL: this.mock.url,
      WSPROXY_ALPACA_TRADING_URL: this.mock.url,
      WSPROXY_RUNTIME_DIR: this.runtimeDir,
      ...extra,
    };
  }

  watch(
    file: string,
    args: string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string; nodeArgs?: string[] } = {},
  ) {
    const watched = watch(file, args, {
      env: options.env ?? this.env(),
      cwd: options.cwd ?? this.workDir,
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    });
    this.children.push(watched);
    return watched;
  }

  /**
   * Runs the wsproxy CLI to completion in this world. Asynchronously: `wsproxy stop` waits for the daemon's pid to
   * go, and a daemon that is our child is only reaped while our event loop runs.
   */
  async wsproxy(
    args: string[],
    env: NodeJS.ProcessEnv = this.env(),
  ): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const child = watch(bins.wsproxy!, args, { env, cwd: this.workDir });
    const timer = setTimeout(() => child.child.kill('SIGKILL'), 15_000);
    const { code } = await child.exited;
    clearTimeout(timer);
    return { status: code, stdout: child.stdout(), stderr: child.stderr() };
  }

  /**
   * Stops every daemon of this runtime folder (`wsproxy stop` per namespace), kills what is left, closes the mock,
   * removes the folders. Returns the problems found: a ring segment left in /dev/shm, a daemon that would not stop.
   */
  async close(): Promise<string[]> {
    const problems: string[] = [];
    const pids: number[] = [];
    for (const sock of existsSync(this.runtimeDir) ? readdirSync(this.runtimeDir) : []) {
      if (!sock.endsWith('.sock')) continue;
      const namespace = sock.slice(0, -'.sock'.length);
      const status = await this.wsproxy(['status', '--json', '--namespace', namespace]);
      try {
        const pid = (JSON.parse(status.stdout) as { daemon?: { pid?: number } }).daemon?.pid;
        if (pid) pids.push(pid);
      } catch {
        // not running: nothing to stop
      }
      const stop = await this.wsproxy(['stop', '--namespace', namespace]);
      if (stop.status !== 0 && !/no wsproxy daemon is running/.test(stop.stdout + stop.stderr))
        problems.push(`wsproxy stop --namespace ${namespace} failed: ${stop.stdout}${stop.stderr}`);
    }
    for (const c of this.children) await c.stop('SIGKILL', 1000);
    await this.mock.close();
    const left = listShm().filter((n) => {
      if (this.shmBefore.has(n)) return false;
      const pid = Number(/-(\d+)$/.exec(n)?.[1]);
      return pids.includes(pid) || !isAlive(pid);
    });
    if (left.length > 0) problems.push(`shared-memory segments left behind: ${left.join(', ')}`);
    rmSync(this.runtimeDir, { recursive: true, force: true });
    rmSync(this.workDir, { recursive: true, force: true });
    return problems;
  }
}

/** wsproxy ring segments (their names end with `-<daemon pid>`). */
function listShm(): string[] {
  if (!existsSync('/dev/shm')) return [];
  return readdirSync('/dev/shm').filter((n) => /^wsproxy-[0-9a-f]+-\d+$/.test(n));
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
