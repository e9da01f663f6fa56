// `wsproxy top` against a real daemon with a real client and upstream: in a real terminal (tmux: the pane is
// captured, keys are sent) and with stdout piped (plain lines).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonEntryPath } from '@wsproxy/proxy-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { cli, type DaemonProcess, RawClient, startDaemon, until } from './helpers/processes.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux) console.warn('tmux is not installed: the terminal tests of wsproxy top are skipped');

let dir: string;
const namespace = `top${process.pid}`;
let daemon: DaemonProcess;
let upstream: WebSocketServer;
let client: RawClient;
let ticker: NodeJS.Timeout;
const common = () => ['--runtime-dir', dir, '--namespace', namespace];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsproxy-top-'));
  // An upstream that speaks every 20 ms to whoever is connected (bounded by the suite's life).
  upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => upstream.once('listening', resolve));
  ticker = setInterval(() => {
    for (const ws of upstream.clients) ws.send(JSON.stringify({ tick: Date.now() }));
  }, 20);
  daemon = await startDaemon(common());
  // A client name carrying a terminal escape: top must not pass it to the terminal.
  client = await RawClient.connect(daemon.info.socket, 'strategy\u001b[31mred');
  const opened = await client.request({
    type: 'open',
    url: `ws://127.0.0.1:${(upstream.address() as AddressInfo).port}/feed?token=hidden`,
    adapter: '',
    headers: [],
    credentials: null,
  });
  expect(opened.type).toBe('opened');
});

afterAll(async () => {
  clearInterval(ticker);
  client?.close();
  await daemon?.stop();
  for (const ws of upstream?.clients ?? []) ws.terminate();
  await new Promise((resolve) => upstream?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('wsproxy top with stdout not a terminal', { timeout: 30_000 }, () => {
  it('prints each refresh as plain lines: upstream, client, rates, lag', async () => {
    const { code, stdout } = await cli(['top', ...common(), '--count', '2', '--interval', '500']);
    expect(code).toBe(0);
    // No cursor movement, no alternate screen: plain text only.
    expect(stdout).not.toContain('\u001b');
    const refreshes = stdout.trim().split(/\n\n(?=wsproxy top:)/);
    expect(refreshes).toHaveLength(2);
    const [first, second] = refreshes.map((r) => r.split('\n'));
    expect(first![0]).toMatch(new RegExp(`^wsproxy top: daemon ${daemon.info.pid} `));
    const upstreamLine = (lines: string[]) => lines.find((l) => l.startsWith('#1 ws://127.0.0.1:'))!;
    // The URL as status shows it: the query (which may hold a token) is hidden.
    expect(upstreamLine(first!)).toMatch(/^#1 ws:\/\/127\.0\.0\.1:\d+\/feed\?\S+ +open +1 +- /);
    expect(stdout).not.toContain('hidden');
    // Rates need two refreshes: the second shows the upstream's ~50 messages/s.
    const rate = Number(upstreamLine(second!).split(/ +/)[4]);
    expect(rate).toBeGreaterThan(5);
    const clientLine = second!.find((l) => l.startsWith('#1 strategy'))!;
    expect(clientLine).toContain('strategy?[31mred');
    expect(clientLine.split(/ +/)[2]).toBe(String(process.pid));
    // Delivered to it at the upstream's rate; this hand-made client never attached a ring reader, so it has no
    // lag or idle state to show (a real client's are checked against /metrics in the alpaca-adapter e2e suite).
    const [, , , delivered, lag, gaps, lost, idle] = clientLine.split(/ +/);
    expect(Number(delivered)).toBeGreaterThan(5);
    expect([lag, gaps, lost, idle]).toEqual(['-', '0', '0', '-']);
  });

  it('says so when no daemon runs, with exit code 1', async () => {
    const { code, stderr } = await cli(['top', '--runtime-dir', dir, '--namespace', `${namespace}-none`]);
    expect(code).toBe(1);
    expect(stderr).toContain('no wsproxy daemon is running');
  });
});

describe.skipIf(!hasTmux)('wsproxy top in a real terminal (tmux)', { timeout: 30_000 }, () => {
  const server = `wsproxy-top-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', server, ...args], { encoding: 'utf8' });
  const pane = (session: string) => tmux('capture-pane', '-p', '-t', session);

  afterAll(() => {
    spawnSync('tmux', ['-L', server, 'kill-server']);
  });

  function startTop(session: string): void {
    const command = [process.execPath, daemonEntryPath, 'top', ...common(), '--interval', '300']
      .map((part) => `'${part}'`)
      .join(' ');
    // After top exits the shell says how, and keeps the pane open so we can read it.
    tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '160',
      '-y',
      '40',
      `${command}; echo "top exited $?"; sleep 30`,
    );
  }

  it('refreshes in place each interval and quits on q, giving the screen back', async () => {
    startTop('q');
    await until(() => /^#1 strategy/m.test(pane('q')), 'top draws the client', 10_000);
    const first = pane('q');
    expect(first).toMatch(/^wsproxy top: daemon \d+ /m);
    expect(first).toContain('q to quit');
    // The escape in the client's name never reached the terminal: no red, the text shows instead.
    expect(first).toContain('strategy?[31mred');
    const clock = (text: string) => /(\d\d:\d\d:\d\d) UTC/.exec(text)?.[1];
    await until(() => clock(pane('q')) !== clock(first), 'the view refreshes', 5_000);
    // Drawn in place: exactly one header on the screen.
    expect(pane('q').match(/wsproxy top:/g)).toHaveLength(1);
    tmux('send-keys', '-t', 'q', 'q');
    await until(() => pane('q').includes('top exited'), 'top exits', 5_000);
    const after = pane('q');
    expect(after).toContain('top exited 0');
    // The alternate screen was left: top's view is gone from the pane.
    expect(after).not.toContain('wsproxy top:');
  });

  it('quits cleanly on Ctrl-C', async () => {
    startTop('c');
    await until(() => pane('c').includes('wsproxy top:'), 'top draws', 10_000);
    tmux('send-keys', '-t', 'c', 'C-c');
    await until(() => pane('c').includes('top exited'), 'top exits', 5_000);
    expect(pane('c')).toContain('top exited 0');
    expect(pane('c')).not.toContain('wsproxy top:');
  });
});
