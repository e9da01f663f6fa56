import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventually, isAlive, TestEnvironment } from './helpers/environment.js';
import { perTestWorld } from './helpers/per-test.js';

describe('daemon lifecycle', () => {
  const world = perTestWorld();

  it('8 clients starting at the same instant end with exactly one daemon', async () => {
    const strategies = Array.from({ length: 8 }, () => world.env.strategy());
    await Promise.all(
      strategies.map((s) => s.waitFor(() => s.reports.some((r) => r.type === 'ready'), 'ready')),
    );
    const connected = await Promise.all(
      strategies.map((s) => s.call<{ daemonPid: number }>('connect', { options: world.env.connectOptions })),
    );
    const pids = new Set(connected.map((c) => c.daemonPid));
    expect(pids.size).toBe(1);
    const [daemonPid] = [...pids];
    // Daemons that lost the race exit on their own; only the winner stays.
    await eventually(() => world.env.daemonProcesses().length === 1, 'one daemon process');
    expect(world.env.daemonProcesses()).toEqual([daemonPid]);
    const status = await strategies[0]!.call<{ clients: unknown[] }>('status');
    expect(status.clients).toHaveLength(8);
  });

  it('releases a client killed with SIGKILL, and exits after the linger once the last one is gone', async () => {
    const a = await world.env.connectedStrategy();
    const b = await world.env.connectedStrategy();
    await a.strategy.call('open', { tag: 'feed', url: world.upstream.url });
    await b.strategy.call('open', { tag: 'feed', url: world.upstream.url });
    const segments = world.env.segments();
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
    expect(world.upstream.openSockets).toBe(1);
    world.upstream.broadcast('still flowing');
    await b.strategy.waitFor(() => b.strategy.messages('feed').length === 1, 'message after the kill');

    await b.strategy.kill('SIGKILL');
    // Last client gone: the upstream closes normally, then the daemon exits after its linger and removes its files.
    await eventually(() => world.upstream.closeCodes.includes(1000), 'upstream closed with 1000');
    await eventually(() => !isAlive(a.daemonPid), 'daemon exit after linger');
    expect(existsSync(world.env.socketPath)).toBe(false);
    expect(world.env.segments()).toEqual([]);
  });

  it('a client that closes is the last one: the daemon exits after the linger', async () => {
    const { strategy, daemonPid } = await world.env.connectedStrategy();
    await strategy.call('open', { tag: 'feed', url: world.upstream.url });
    await strategy.call('close');
    await eventually(() => !isAlive(daemonPid), 'daemon exit after linger');
    expect(existsSync(world.env.socketPath)).toBe(false);
    expect(world.env.segments()).toEqual([]);
  });

  it('a client arriving while the daemon exits (linger 0) gets the next daemon', async () => {
    const quick = new TestEnvironment(['--linger', '0']);
    try {
      // Sweep the moment of the next connect across the daemon's exit (socket removed, clients refused, process
      // gone); every connect must succeed, whichever daemon it ends up with.
      for (let round = 0; round < 8; round++) {
        const client = await quick.client();
        const socket = await client.open(world.upstream.url);
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
      `require('node:net').createServer().listen(${JSON.stringify(world.env.socketPath)}, () => console.log('up'))`,
    ]);
    await new Promise((resolve) => squatter.stdout.once('data', resolve));
    squatter.kill('SIGKILL');
    await new Promise((resolve) => squatter.once('exit', resolve));
    expect(existsSync(world.env.socketPath)).toBe(true);

    const { strategy, daemonPid } = await world.env.connectedStrategy();
    expect(isAlive(daemonPid)).toBe(true);
    const opened = await strategy.call<{ isNew: boolean }>('open', { tag: 'feed', url: world.upstream.url });
    expect(opened.isNew).toBe(true);
  });
});
