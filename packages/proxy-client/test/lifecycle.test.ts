import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, isAlive, TestEnvironment } from './helpers/environment.js';
import { UpstreamServer } from './helpers/upstream-server.js';

describe('daemon lifecycle', () => {
  let env: TestEnvironment;
  let upstream: UpstreamServer;

  beforeEach(async () => {
    env = new TestEnvironment();
    upstream = await new UpstreamServer().start();
  });

  afterEach(async () => {
    await env.cleanup();
    await upstream.stop();
  });

  it('8 clients starting at the same instant end with exactly one daemon', async () => {
    const strategies = Array.from({ length: 8 }, () => env.strategy());
    await Promise.all(
      strategies.map((s) => s.waitFor(() => s.reports.some((r) => r.type === 'ready'), 'ready')),
    );
    const connected = await Promise.all(
      strategies.map((s) => s.call<{ daemonPid: number }>('connect', { options: env.connectOptions })),
    );
    const pids = new Set(connected.map((c) => c.daemonPid));
    expect(pids.size).toBe(1);
    const [daemonPid] = [...pids];
    // Daemons that lost the race exit on their own; only the winner stays.
    await eventually(() => env.daemonProcesses().length === 1, 'one daemon process');
    expect(env.daemonProcesses()).toEqual([daemonPid]);
    const status = await strategies[0]!.call<{ clients: unknown[] }>('status');
    expect(status.clients).toHaveLength(8);
  });

  it('releases a client killed with SIGKILL, and exits after the linger once the last one is gone', async () => {
    const a = await env.connectedStrategy();
    const b = await env.connectedStrategy();
    await a.strategy.call('open', { tag: 'feed', url: upstream.url });
    await b.strategy.call('open', { tag: 'feed', url: upstream.url });
    const segments = env.segments();
    expect(segments).toHaveLength(1);

    await a.strategy.kill('SIGKILL');
    type Status = { clients: Array<{ pid: number }>; upstreams: Array<{ clients: number[] }> };
    let status = await b.strategy.call<Status>('status');
    const deadline = Date.now() + 10_000;
    while (status.clients.length > 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = await b.strategy.call<Status>('status');
    }
    expect(status.clients.map((c) => c.pid)).toEqual([b.strategy.child.pid]);
    expect(status.upstreams[0]!.clients).toHaveLength(1);
    expect(upstream.openSockets).toBe(1);
    upstream.broadcast('still flowing');
    await b.strategy.waitFor(() => b.strategy.messages('feed').length === 1, 'message after the kill');

    await b.strategy.kill('SIGKILL');
    // Last client gone: the upstream closes normally, then the daemon exits after its linger and removes its files.
    await eventually(() => upstream.closeCodes.includes(1000), 'upstream closed with 1000');
    await eventually(() => !isAlive(a.daemonPid), 'daemon exit after linger');
    expect(existsSync(env.socketPath)).toBe(false);
    expect(env.segments()).toEqual([]);
  });

  it('a client that closes is the last one: the daemon exits after the linger', async () => {
    const { strategy, daemonPid } = await env.connectedStrategy();
    await strategy.call('open', { tag: 'feed', url: upstream.url });
    await strategy.call('close');
    await eventually(() => !isAlive(daemonPid), 'daemon exit after linger');
    expect(existsSync(env.socketPath)).toBe(false);
    expect(env.segments()).toEqual([]);
  });

  it('a client arriving while the daemon exits (linger 0) gets the next daemon', async () => {
    const quick = new TestEnvironment(['--linger', '0']);
    try {
      // Sweep the moment of the next connect across the daemon's exit (socket removed, clients refused, process
      // gone); every connect must succeed, whichever daemon it ends up with.
      for (let round = 0; round < 8; round++) {
        const client = await quick.client();
        const socket = await client.open(upstream.url);
        expect(socket.state).toBe('open');
        await client.close();
        await new Promise((resolve) => setTimeout(resolve, round * 3));
      }
      // No daemon is left behind once the last client is gone.
      await eventually(() => quick.liveDaemonPids().length === 0, 'every daemon exited');
    } finally {
      await quick.cleanup();
    }
  });

  it('recovers a stale socket left by a dead process', async () => {
    // A process that binds the daemon's socket path and dies without cleaning up, like a SIGKILLed daemon.
    const squatter = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(env.socketPath)}, () => console.log('up'))`,
    ]);
    await new Promise((resolve) => squatter.stdout.once('data', resolve));
    squatter.kill('SIGKILL');
    await new Promise((resolve) => squatter.once('exit', resolve));
    expect(existsSync(env.socketPath)).toBe(true);

    const { strategy, daemonPid } = await env.connectedStrategy();
    expect(isAlive(daemonPid)).toBe(true);
    const opened = await strategy.call<{ isNew: boolean }>('open', { tag: 'feed', url: upstream.url });
    expect(opened.isNew).toBe(true);
  });
});
