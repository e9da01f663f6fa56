import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonEntryPath } from '@wsproxy/proxy-server';
import { describe, expect, it } from 'vitest';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The last table the demo printed: one row per strategy, after the header and its dashes. */
function lastTable(output: string): { name: string; pid: number; symbols: string; messages: number }[] {
  const frames = output.split('wsproxy demo: three strategies');
  const rows = (frames.at(-1) ?? '').split('\n').filter((line) => /^momentum-[ABC]\s/.test(line));
  return rows.map((line) => {
    const [name, pid, symbols, messages] = line.split(/\s{2,}/);
    return { name: name!, pid: Number(pid), symbols: symbols!, messages: Number(messages) };
  });
}

describe('pnpm demo (not a TTY)', () => {
  it('shows three strategies sharing one upstream session, then stops everything', () => {
    // Its default run (15 s), as `pnpm demo` shows it: on a loaded machine the strategies' start-up alone took 6-8 s,
    // and an 8 s run ended before the direct second connection could be tried against the shared session.
    const result = spawnSync(process.execPath, [join(dist, 'demo.js')], {
      encoding: 'utf8',
      timeout: 90_000,
      env: { ...process.env, APCA_API_KEY_ID: '', APCA_API_SECRET_KEY: '' },
    });
    const output = result.stdout + result.stderr;
    expect(result.status, output).toBe(0);
    // Plain lines only: no cursor movement when the output is not a terminal.
    expect(output).not.toContain('\x1b[');
    expect(output).toContain('upstream sessions at the mock (v2/iex): 1');
    expect(output).toContain(
      'a direct second connection with the same keys gets: 406 connection limit exceeded',
    );
    expect(output).toMatch(/union of subscriptions upstream: trades AAPL,AMD,MSFT,NVDA,TSLA/);
    const table = lastTable(output);
    expect(table.map((r) => r.name)).toEqual(['momentum-A', 'momentum-B', 'momentum-C']);
    expect(table.map((r) => r.symbols)).toEqual(['AAPL,MSFT,NVDA', 'MSFT,NVDA,AMD', 'NVDA,AMD,TSLA']);
    for (const row of table) expect(row.messages).toBeGreaterThan(0);
    expect(output).toContain('result: OK');
    // No daemon, strategy or segment outlives the demo. (Other suites may run meanwhile, so only the demo's own
    // daemon's segment — named after its pid — is looked for.)
    const daemonPid = Number(/wsproxy daemon pid: (\d+)/.exec(output)?.[1]);
    const strategyPids = table.map((row) => row.pid);
    expect(daemonPid).toBeGreaterThan(0);
    for (const pid of [daemonPid, ...strategyPids])
      expect(isRunning(pid), `pid ${pid} still runs`).toBe(false);
    expect(
      readdirSync('/dev/shm').filter((f) => f.startsWith('wsproxy') && f.endsWith(`-${daemonPid}`)),
    ).toEqual([]);
  });
});

describe('example-strategy', () => {
  it('prints its options with --help', () => {
    const result = spawnSync(process.execPath, [join(dist, 'strategy.js'), '--help'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    for (const flag of [
      '--symbols',
      '--feed',
      '--fast',
      '--slow',
      '--url',
      '--duration',
      'APCA_API_KEY_ID',
    ]) {
      expect(result.stdout).toContain(flag);
    }
  });

  it('refuses bad options with a clear message and exit code 2', () => {
    const result = spawnSync(process.execPath, [join(dist, 'strategy.js'), '--fast', '9', '--slow', '3'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--slow (3) must be larger than --fast (9)');
  });

  it('runs out of the box against its embedded mock and reports what it received', () => {
    const runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-example-test-'));
    try {
      const result = spawnSync(
        process.execPath,
        [join(dist, 'strategy.js'), '--duration', '4', '--json', '--symbols', 'AAPL,SPY'],
        {
          encoding: 'utf8',
          timeout: 60_000,
          env: {
            ...process.env,
            APCA_API_KEY_ID: '',
            APCA_API_SECRET_KEY: '',
            WSPROXY_RUNTIME_DIR: runtimeDir,
            WSPROXY_NAMESPACE: 'example-test',
          },
        },
      );
      expect(result.status, result.stderr).toBe(0);
      const statuses = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { symbols: string[]; trades: number; daemonPid: number });
      const last = statuses.at(-1)!;
      expect(last.symbols).toEqual(['AAPL', 'SPY']);
      expect(last.trades).toBeGreaterThan(0);
      expect(last.daemonPid).toBeGreaterThan(0);
      // The strategy's daemon would leave by itself after its linger; stopping it keeps the test quick and tidy.
      // `wsproxy stop` finds it through the same WSPROXY_NAMESPACE the strategy used, and it is gone after.
      const stop = spawnSync(process.execPath, [daemonEntryPath, 'stop', '--json'], {
        encoding: 'utf8',
        env: { ...process.env, WSPROXY_RUNTIME_DIR: runtimeDir, WSPROXY_NAMESPACE: 'example-test' },
      });
      expect(stop.status, stop.stderr).toBe(0);
      expect(JSON.parse(stop.stdout)).toEqual({ stopped: true, pid: last.daemonPid });
      expect(() => process.kill(last.daemonPid, 0)).toThrow();
    } finally {
      // After a failure above: still no daemon left running in a deleted folder.
      spawnSync(process.execPath, [daemonEntryPath, 'stop'], {
        env: { ...process.env, WSPROXY_RUNTIME_DIR: runtimeDir, WSPROXY_NAMESPACE: 'example-test' },
      });
      rmSync(runtimeDir, { recursive: true, force: true });
    }
  });
});
