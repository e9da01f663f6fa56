// `wsproxy start --adapter @wsproxy/alpaca-adapter/daemon`, as the docs write it, run from a project that depends
// on this package: the specifier is found from the project (the command's cwd), even where the daemon's own
// installation cannot see it (pnpm). Here the project is this package itself (a package resolves its own name).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { exited, wsproxyCli } from './e2e-processes.js';

const run = promisify(execFile);
const project = join(import.meta.dirname, '..');
const runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-specifier-'));
const namespace = `specifier-${process.pid}`;
const where = ['--runtime-dir', runtimeDir, '--namespace', namespace];
let daemon: ChildProcess | undefined;

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    daemon.kill('SIGKILL');
    await exited(daemon);
    // A killed daemon cannot unlink its ring: do it for it.
    for (const name of readdirSync('/dev/shm').filter((n) => n.endsWith(`-${daemon!.pid}`)))
      rmSync(join('/dev/shm', name), { force: true });
  }
  rmSync(runtimeDir, { recursive: true, force: true });
});

it('loads the adapter named by package specifier from the project the command runs in', {
  timeout: 30_000,
}, async () => {
  daemon = spawn(
    process.execPath,
    [wsproxyCli, 'start', ...where, '--adapter', '@wsproxy/alpaca-adapter/daemon', '--log-level', 'warn'],
    { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  daemon.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  type Status = {
    running?: boolean;
    daemon?: { pid: number };
    adapters?: { name: string; module: string }[];
  };
  const status = async (): Promise<Status> => {
    try {
      const { stdout } = await run(process.execPath, [wsproxyCli, 'status', '--json', ...where]);
      return JSON.parse(stdout) as Status;
    } catch {
      return { running: false }; // not up yet: `status` exits 1
    }
  };
  let seen: Status = { running: false };
  const deadline = Date.now() + 15_000;
  while (daemon.exitCode === null && seen.adapters === undefined && Date.now() < deadline) {
    seen = await status();
    if (seen.adapters === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(daemon.exitCode, stderr).toBeNull();
  const alpaca = seen.adapters?.find((a) => a.name === 'alpaca');
  expect(alpaca?.module).toContain(join('alpaca-adapter', 'dist', 'daemon'));
  expect(seen.daemon?.pid).toBe(daemon.pid);

  await run(process.execPath, [wsproxyCli, 'stop', ...where]);
  await exited(daemon);
  expect(daemon.exitCode).toBe(0);
  expect(existsSync(join(runtimeDir, `${namespace}.sock`))).toBe(false);
});
