// The systemd user unit and the launchd plist in the README, as written: each is checked by the tool that reads
// that format here (systemd-analyze, Python's plistlib for Apple's plist format), and its command line is run with
// our `wsproxy` in place of /usr/local/bin/wsproxy: the daemon must stay up with no client past the default
// linger, and end cleanly (exit 0, socket gone) on the SIGTERM a service manager sends.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonEntryPath } from '@wsproxy/proxy-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, until } from './helpers/processes.js';

const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const DOC_PATH = '/usr/local/bin/wsproxy';

function block(lang: string): string {
  const match = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no \`\`\`${lang} block`);
  return match[1]!;
}

const unit = block('ini');
const plist = block('xml');

describe('service manager samples (README.md)', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wsp-svc-'));
    chmodSync(dir, 0o700);
  });

  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the sample's argv (its wsproxy replaced by ours) as the service manager would, in its own namespace. */
  async function runAsService(argv: string[], namespace: string): Promise<void> {
    expect(argv[0]).toBe(DOC_PATH);
    const child = spawn(process.execPath, [daemonEntryPath, ...argv.slice(1)], {
      env: { ...process.env, WSPROXY_RUNTIME_DIR: dir, WSPROXY_NAMESPACE: namespace },
      stdio: 'ignore',
    });
    children.push(child);
    const socket = join(dir, `${namespace}.sock`);
    await until(() => existsSync(socket), 'the daemon socket');
    // Past the 3 s start-up grace and the 5 s default linger, with no client at all.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(child.exitCode).toBeNull();
    const env = { WSPROXY_RUNTIME_DIR: dir, WSPROXY_NAMESPACE: namespace };
    expect(JSON.parse((await cli(['status', '--json'], env)).stdout)).toMatchObject({
      running: true,
      daemon: { pid: child.pid },
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(socket)).toBe(false);
  }

  it('the systemd user unit verifies and its ExecStart keeps the daemon until SIGTERM', async () => {
    const execStart = /^ExecStart=(.+)$/m.exec(unit)?.[1];
    expect(execStart).toBeDefined();
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=3$/m);
    const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
    if (hasAnalyze) {
      // systemd-analyze checks the unit file itself, with a real executable in ExecStart.
      const file = join(dir, 'wsproxy.service');
      writeFileSync(file, unit.replace(DOC_PATH, `${process.execPath} ${daemonEntryPath}`));
      const verify = spawnSync('systemd-analyze', ['verify', '--user', file], {
        env: { ...process.env, XDG_RUNTIME_DIR: dir },
        encoding: 'utf8',
      });
      expect(verify.stderr).toBe('');
      expect(verify.status).toBe(0);
    } else {
      console.warn('systemd-analyze is not installed: the unit is run but not verified');
    }
    await runAsService(execStart!.split(/\s+/), `svc-systemd-${process.pid}`);
  }, 30_000);

  it('the launchd plist parses as a plist and its ProgramArguments keep the daemon until SIGTERM', async () => {
    const parsed = JSON.parse(
      execFileSync(
        'python3',
        ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'],
        { input: plist, encoding: 'utf8' },
      ),
    ) as {
      Label: string;
      ProgramArguments: string[];
      RunAtLoad: boolean;
      KeepAlive: { SuccessfulExit: boolean };
    };
    expect(parsed).toMatchObject({
      Label: 'dev.wsproxy.daemon',
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
    });
    expect(readme).toContain(`~/Library/LaunchAgents/${parsed.Label}.plist`);
    await runAsService(parsed.ProgramArguments, `svc-launchd-${process.pid}`);
  }, 30_000);
});
