import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { Cleanup, shmLeftovers } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** The code block that follows `<!-- example:<label> -->` in the README. */
function example(label: string): string {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- example:${label} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (match === null) throw new Error(`README has no example:${label} block`);
  return match[1]!;
}

function run(file: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.defer(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { exited, output: () => ({ stdout, stderr }) };
}

it('the two-process README example runs as written', async () => {
  const name = cleanup.name('readme');
  // Inside the package so `import '@wsproxy/shm-queue'` resolves to this package by its own name.
  const folder = join(packageRoot, 'test', `.readme-${process.pid}`);
  mkdirSync(folder, { recursive: true });
  const runtime = cleanup.dir();
  const files = { writer: join(folder, 'writer.mjs'), reader: join(folder, 'reader.mjs') };
  for (const [label, file] of Object.entries(files))
    writeFileSync(file, example(label).replaceAll('demo-ticks', name));
  cleanup.defer(async () => (await import('node:fs/promises')).rm(folder, { recursive: true, force: true }));

  const env = { XDG_RUNTIME_DIR: runtime };
  const writer = run(files.writer, env);
  const socket = join(runtime, 'shm-queue', `${name}.sock`);
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const reader = run(files.reader, env);

  expect(await reader.exited).toBe(0);
  expect(await writer.exited).toBe(0);
  expect(reader.output().stdout).toBe('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
  expect(reader.output().stderr).toBe('');
  expect(existsSync(socket)).toBe(false);
  expect(shmLeftovers()).toEqual([]);
}, 30_000);
