import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startAlpacaMock } from '@wsproxy/alpaca-mock';
import { daemonEntryPath } from '@wsproxy/proxy-server';
import { expect, it } from 'vitest';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = join(app, '..', '..');

it("the README's strategy example is src/quick-start.ts, word for word", () => {
  const example = readFileSync(join(app, 'src', 'quick-start.ts'), 'utf8');
  expect(readFileSync(join(repoRoot, 'README.md'), 'utf8')).toContain(`\`\`\`ts\n${example}\`\`\``);
});

it("the README's strategy example runs as written and receives trades through the daemon", async () => {
  const mock = await startAlpacaMock({ rate: 50 });
  const runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-quick-start-test-'));
  const env = {
    ...process.env,
    APCA_API_STREAM_URL: mock.url,
    APCA_API_KEY_ID: 'mock-key',
    APCA_API_SECRET_KEY: 'mock-secret',
    WSPROXY_RUNTIME_DIR: runtimeDir,
    WSPROXY_NAMESPACE: 'quick-start-test',
  };
  const child = spawn(process.execPath, [join(app, 'dist', 'quick-start.js')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const lines: string[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (lines.filter((l) => l.startsWith('trade ')).length >= 5) resolve();
      });
      void exited.then((code) => reject(new Error(`example exited with ${code} early: ${stderr}`)));
    });
    expect(lines[0]).toBe('subscribed to trades of AAPL,MSFT');
    expect(lines.filter((l) => l.startsWith('trade ')).every((l) => /^trade (AAPL|MSFT) \d/.test(l))).toBe(
      true,
    );
    // The example was the only process on that daemon, so the mock saw exactly one session for it.
    expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(1);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // The daemon the example spawned, found through the example's own WSPROXY_NAMESPACE, and gone after.
    const stopped = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const stop = spawn(process.execPath, [daemonEntryPath, 'stop', '--json'], { env });
      let stdout = '';
      stop.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      stop.once('exit', (code) => resolve({ code, stdout }));
    });
    expect(stopped.code).toBe(0);
    const { pid } = JSON.parse(stopped.stdout) as { stopped: boolean; pid: number };
    expect(() => process.kill(pid, 0)).toThrow();
  } finally {
    child.kill('SIGKILL');
    const stop = spawn(process.execPath, [daemonEntryPath, 'stop'], { env, stdio: 'ignore' });
    await new Promise((resolve) => stop.once('exit', resolve));
    rmSync(runtimeDir, { recursive: true, force: true });
    await mock.close();
  }
});
