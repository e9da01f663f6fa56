// The real parts samples run against: the Alpaca mock on 127.0.0.1, a private wsproxy runtime folder, child
// processes whose output we watch, and the cleanup that stops every daemon and checks its ring segment is gone.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { ringScope } from '@wsproxy/proxy-server';

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

/** Where worlds' working folders go: this package's git-ignored .samples folder. */
const worldsDir = fileURLToPath(new URL('../.samples/worlds/', import.meta.url));

function newWorkDir(): string {
  mkdirSync(worldsDir, { recursive: true });
  return mkdtempSync(join(worldsDir, 'cwd-'));
}

export const MOCK_KEYS = { APCA_API_KEY_ID: 'mock-key', APCA_API_SECRET_KEY: 'mock-secret' } as const;

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
  /**
   * The folder commands run in (holding e.g. cert.pem / key.pem): inside this package, like a folder of a user's
   * project that installed the packages, so `wsproxy start --adapter @wsproxy/alpaca-adapter/daemon` resolves the
   * adapter from there exactly as written.
   */
  readonly workDir = newWorkDir();
  private readonly children: Watched[] = [];
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
    const rings = new Set<string>();
    const files = existsSync(this.runtimeDir) ? readdirSync(this.runtimeDir) : [];
    for (const sock of files.filter((f) => f.endsWith('.sock'))) {
      const namespace = sock.slice(0, -'.sock'.length);
      const status = await this.wsproxy(['status', '--json', '--namespace', namespace]);
      try {
        const ring = (JSON.parse(status.stdout) as { ring?: { name?: string } }).ring?.name;
        if (ring) rings.add(ring);
      } catch {
        // not running: nothing to stop
      }
      const stop = await this.wsproxy(['stop', '--namespace', namespace]);
      if (stop.status !== 0 && !/no wsproxy daemon is running/.test(stop.stdout + stop.stderr))
        problems.push(`wsproxy stop --namespace ${namespace} failed: ${stop.stdout}${stop.stderr}`);
    }
    for (const c of this.children) await c.stop('SIGKILL', 1000);
    await this.mock.close();
    // Rings of this folder's daemons are named wsproxy-<scope>-<pid>, the scope a hash of (folder, namespace): every
    // segment of these scopes is ours, even of a daemon that had already exited or was killed, and none may be
    // left. Rings we saw by name (status, logs) prove the naming is still the one computed here.
    for (const log of files.filter((f) => f.endsWith('.log')))
      for (const m of readFileSync(join(this.runtimeDir, log), 'utf8').matchAll(
        /"ring":"(wsproxy-[\w.-]+)"/g,
      ))
        rings.add(m[1]!);
    const namespaces = new Set(
      files.map((f) => f.replace(/\.(sock|log|lock)$/, '')).filter((n, i) => n !== files[i]),
    );
    const scopes = [...namespaces].map((ns) => `wsproxy-${ringScope(this.runtimeDir, ns)}-`);
    for (const ring of rings)
      if (!scopes.some((scope) => ring.startsWith(scope)))
        problems.push(`ring ${ring} is not named as proxy-server's ringScope says (${scopes.join(', ')})`);
    const left = existsSync('/dev/shm')
      ? readdirSync('/dev/shm').filter((n) => scopes.some((scope) => n.startsWith(scope)) || rings.has(n))
      : [];
    if (left.length > 0) problems.push(`shared-memory segments left behind: ${left.join(', ')}`);
    rmSync(this.runtimeDir, { recursive: true, force: true });
    rmSync(this.workDir, { recursive: true, force: true });
    return problems;
  }
}
