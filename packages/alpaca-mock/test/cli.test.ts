import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AlpacaClient, Cleanup, isData } from './client.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);
const cleanup = new Cleanup();
const children = new Set<ChildProcess>();
afterEach(async () => {
  await cleanup.run();
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});

function startCli(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CLI did not start: ${out}`)), 10_000);
    child.stdout?.on('data', () => {
      const match = /listening on (ws:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] as string, output: () => out });
      }
    });
    child.once('exit', (code) => reject(new Error(`CLI exited with ${code}: ${out}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

describe('alpaca-mock CLI', () => {
  it('--help documents every flag and endpoint', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--help']);
    for (const flag of [
      '--port',
      '--host',
      '--symbols',
      '--seed',
      '--rate',
      'firehose',
      '--batch-size',
      '--tick-ms',
      '--start-time',
      '--keys',
      '--connection-limit',
      '--auth-timeout',
      '--symbol-limit',
      '--tail',
      '--half-dead',
      '--upgrade-limit',
      '--deflate',
      'v2/iex',
      'v1beta3/crypto/us',
      'v1beta1/opra',
      'v1beta1/news',
      'stream',
      '/v2/stocks/snapshots',
      'SIGTERM',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it('exits with 2 and a hint on a bad flag', async () => {
    const error = await run(process.execPath, [CLI, '--bogus']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain("Try 'alpaca-mock --help'");
    const bad = await run(process.execPath, [CLI, '--keys', 'nocolon']).catch((e: { code: number }) => e);
    expect(bad).toMatchObject({ code: 2 });
  });

  it('runs as a server with the given keys, symbols and limit, and exits cleanly on SIGTERM', async () => {
    const { child, url, output } = await startCli([
      '--port',
      '0',
      '--keys',
      'cli-key:cli-secret',
      '--symbols',
      'ZZZ,BTC/USD',
      '--rate',
      '100',
      '--seed',
      '7',
      '--connection-limit',
      '1',
    ]);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(output()).not.toContain('cli-secret');
    const client = cleanup.add(await AlpacaClient.connect(`${url}/v2/iex`));
    await client.next((m) => m.msg === 'connected');
    client.send({ action: 'auth', key: 'cli-key', secret: 'cli-secret' });
    await client.next((m) => m.msg === 'authenticated');
    await client.request({ action: 'subscribe', trades: ['*'] });
    const data = await client.collect(isData, 3);
    expect(data.every((m) => m.S === 'ZZZ')).toBe(true);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect((await client.closed).code).toBe(1001);
  });

  it('exits cleanly on SIGINT', async () => {
    const { child } = await startCli([]);
    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
  });
});
