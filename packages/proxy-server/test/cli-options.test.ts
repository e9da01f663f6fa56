// The CLI's own contract: every bad option is a typed error naming its range, `--version`, `--linger never`,
// `status` as an observer (no reader slot, not a client), the log's size cap and its lines, WSPROXY_NAMESPACE.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonEntryPath } from '@wsproxy/proxy-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, type DaemonProcess, RawClient, startDaemon } from './helpers/processes.js';

const ownVersion = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

describe('wsproxy CLI options', () => {
  let dir: string;
  let namespace: string;
  const daemons: DaemonProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wsp-cliopt-'));
    namespace = `opt${process.pid}`;
  });

  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const common = () => ['--namespace', namespace, '--runtime-dir', dir];

  it('--version prints the package version, as text or JSON', async () => {
    const text = await cli(['--version']);
    expect(text).toMatchObject({ code: 0, stdout: `${ownVersion}\n` });
    expect(JSON.parse((await cli(['-v', '--json'])).stdout)).toEqual({ version: ownVersion });
  });

  it.each([
    // A timer above 2^31-1 ms fires after 1 ms: the daemon exited at once before this was checked.
    [['--linger', '3000000000'], '--linger'],
    [['--linger', 'forever'], '"never"'],
    [['--linger', '-5'], '--linger'],
    [['--ping-interval', '2147483648'], '--ping-interval'],
    [['--pong-timeout', '0'], '--pong-timeout'],
    [['--reconnect-initial', '1.5'], '--reconnect-initial'],
    [['--reconnect-max', '99999999999'], '--reconnect-max'],
    [['--listen', '8765', '--listen-auth-timeout', '3000000000'], '--listen-auth-timeout'],
    [['--listen', '8765', '--listen-buffer', '0'], '--listen-buffer'],
    [['--max-clients', '0'], '--max-clients'],
    [['--max-clients', '5000'], '--max-clients'],
    [['--ring-size', '4097'], 'power of two'],
    [['--ring-size', '1000'], '--ring-size'],
    [['--ring-size', 'big'], '--ring-size'],
    [['--log-max-bytes', '100'], '--log-max-bytes'],
    [['--log-level', 'loud'], 'log level'],
  ])(
    'start %j is refused with a typed error naming %s, and nothing is left running',
    async (args, naming) => {
      const result = await cli(['start', ...common(), ...args]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('WSP_ERR_INVALID_ARGUMENT');
      expect(result.stderr).toContain(naming);
      expect(existsSync(join(dir, `${namespace}.sock`))).toBe(false);
    },
  );

  it('an unknown option or a missing value gets a clear message listing the valid options, not parseArgs text', async () => {
    const unknown = await cli(['status', '--bogus']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /unknown option --bogus; valid options: .*--namespace.*--linger.*--follow \(-f\)/,
    );
    expect(unknown.stderr).toContain('WSP_ERR_INVALID_ARGUMENT');
    expect(unknown.stderr).not.toContain('To specify a positional argument');
    const missing = await cli(['logs', ...common(), '--lines']);
    expect(missing.stderr).toContain("'-n, --lines <value>' argument missing");
    expect(missing.stderr).toContain('WSP_ERR_INVALID_ARGUMENT');
    const lines = await cli(['logs', ...common(), '--lines', 'ten']);
    expect(lines.stderr).toMatch(/--lines must be a whole number/);
  });

  it('--linger never keeps an idle daemon past the start-up grace and the default linger, until stopped', async () => {
    const daemon = await startDaemon([...common(), '--linger', 'never']);
    daemons.push(daemon);
    // Default linger 5 s after a 3 s start-up grace: a daemon that could exit by itself would be gone by 6 s.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(daemon.child.exitCode).toBeNull();
    const status = await cli(['status', ...common(), '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, daemon: { pid: daemon.info.pid } });
    const exited = new Promise((resolve) => daemon.child.once('exit', resolve));
    expect((await cli(['stop', ...common()])).code).toBe(0);
    expect(await exited).toBe(0);
  }, 20_000);

  it('status is no client: it takes no reader slot, so it works when every slot is held, and lists only clients', async () => {
    const daemon = await startDaemon([...common(), '--max-clients', '1']);
    daemons.push(daemon);
    const only = await RawClient.connect(daemon.info.socket, 'the-only-client');
    try {
      const status = await cli(['status', ...common(), '--json']);
      expect(status.code).toBe(0);
      const report = JSON.parse(status.stdout) as { clients: { name: string; readerSlot: number }[] };
      expect(report.clients).toEqual([expect.objectContaining({ name: 'the-only-client', readerSlot: 0 })]);
      // The human form too: one client, and it is not the CLI.
      const human = await cli(['status', ...common()]);
      expect(human.stdout).toContain('clients (1):');
      expect(human.stdout).not.toContain('wsproxy-cli');
    } finally {
      only.close();
    }
  });

  it('log lines carry pid once; past --log-max-bytes the log rotates to <log>.1 (both 0600), and logs reads on', async () => {
    const daemon = await startDaemon([...common(), '--log-max-bytes', '4096']);
    daemons.push(daemon);
    const logPath = join(dir, `${namespace}.log`);
    // Every client logs a connect and a disconnect line (~170 bytes each): 40 of them write well past 4096 bytes.
    for (let i = 0; i < 40; i++) (await RawClient.connect(daemon.info.socket, `client-${i}`)).close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(`${logPath}.1`)).toBe(true);
    for (const path of [logPath, `${logPath}.1`]) {
      const stat = statSync(path);
      expect(stat.mode & 0o777).toBe(0o600);
      // The cap plus at most the lines written while the rename and reopen happened.
      expect(stat.size).toBeLessThan(4096 + 4096);
      for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
        expect(line.match(/"pid":/g)?.length ?? 0, line).toBeLessThanOrEqual(1);
      }
    }
    const logs = await cli(['logs', ...common(), '--json', '-n', '5']);
    expect(logs.stdout.split('\n').filter(Boolean)).toHaveLength(5);
  });

  it('--listen with no adapter installed anywhere it may look is refused, naming the package to install', async () => {
    // A folder outside any project: neither the daemon's installation (pnpm keeps siblings apart) nor a project has
    // @wsproxy/alpaca-adapter. (Where it is installed, alpaca-adapter's endpoint-default-adapter.test.ts shows it
    // is loaded by itself.)
    const outside = mkdtempSync(join(tmpdir(), 'wsp-noproject-'));
    try {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [daemonEntryPath, 'start', ...common(), '--listen', '127.0.0.1:0'],
          {
            cwd: outside,
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        let stderr = '';
        child.stderr.on('data', (chunk) => {
          stderr += chunk;
        });
        child.once('exit', (code) => resolve({ code, stderr }));
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('WSP_ERR_INVALID_ARGUMENT');
      expect(result.stderr).toContain('npm install @wsproxy/alpaca-adapter');
      expect(existsSync(join(dir, `${namespace}.sock`))).toBe(false);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('status and stop find the daemon of $WSPROXY_NAMESPACE, as the client does', async () => {
    const daemon = await startDaemon(['--runtime-dir', dir], { WSPROXY_NAMESPACE: namespace });
    daemons.push(daemon);
    expect(daemon.info.socket).toBe(join(dir, `${namespace}.sock`));
    const env = { WSPROXY_NAMESPACE: namespace };
    const status = await cli(['status', '--runtime-dir', dir, '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, daemon: { pid: daemon.info.pid } });
    // Without the variable the default namespace is asked, and that one is not running in this folder.
    expect((await cli(['status', '--runtime-dir', dir, '--json'])).stdout).toContain('"running":false');
    const exited = new Promise((resolve) => daemon.child.once('exit', resolve));
    expect(JSON.parse((await cli(['stop', '--runtime-dir', dir, '--json'], env)).stdout)).toEqual({
      stopped: true,
      pid: daemon.info.pid,
    });
    expect(await exited).toBe(0);
  });
});
