import { describe, expect, it } from 'vitest';
import { eventually, isAlive } from './helpers/environment.js';
import { perTestWorld } from './helpers/per-test.js';

describe('recovery', () => {
  const world = perTestWorld();

  it('daemon killed with SIGKILL mid-stream: clients respawn it, reopen, resubscribe and receive again', async () => {
    const a = await world.env.connectedStrategy();
    const b = await world.env.connectedStrategy();
    await a.strategy.call('open', { tag: 'feed', url: world.upstream.url });
    await b.strategy.call('open', { tag: 'feed', url: world.upstream.url });
    await a.strategy.call('subscribe', { tag: 'feed', params: '{"action":"subscribe","trades":["AAPL"]}' });
    expect(world.upstream.received.map((f) => f.data.toString())).toEqual([
      '{"action":"subscribe","trades":["AAPL"]}',
    ]);
    const oldSegments = world.env.segments();
    expect(oldSegments).toHaveLength(1);

    // Mid-stream: frames are flowing when the daemon dies.
    const flood = setInterval(() => world.upstream.broadcast('tick'), 2);
    try {
      await a.strategy.waitFor(() => a.strategy.messages('feed').length > 10, 'ticks before the kill');
      process.kill(a.daemonPid, 'SIGKILL');
      for (const { strategy } of [a, b]) {
        await strategy.waitFor(() => strategy.events('disconnected').length === 1, 'disconnected');
        await strategy.waitFor(() => strategy.events('reconnected').length >= 1, 'reconnected', 30_000);
      }
    } finally {
      clearInterval(flood);
    }
    const { daemonPid: newPid } = await a.strategy.call<{ daemonPid: number }>('daemonPid');
    expect(newPid).not.toBe(a.daemonPid);
    expect((await b.strategy.call<{ daemonPid: number }>('daemonPid')).daemonPid).toBe(newPid);
    expect(isAlive(a.daemonPid)).toBe(false);
    // One new upstream connection for both, the subscription restored on it, and the dead daemon's ring removed.
    await eventually(() => world.upstream.openSockets === 1, 'one upstream after recovery');
    expect(world.upstream.connections).toBe(2);
    await eventually(
      () => world.upstream.received.filter((f) => f.data.toString().includes('subscribe')).length === 2,
      'subscription restored',
    );
    expect(world.env.segments().filter((name) => oldSegments.includes(name))).toEqual([]);

    const before = [a, b].map(({ strategy }) => strategy.messages('feed').length);
    world.upstream.broadcast('after recovery');
    for (const [i, { strategy }] of [a, b].entries()) {
      await strategy.waitFor(() => strategy.messages('feed').length > before[i]!, 'data after recovery');
      const socketEvents = strategy.reports
        .filter((r) => r.type === 'event' && r.tag === 'feed')
        .map((r) => r.name);
      expect(socketEvents).toContain('reconnecting');
      expect(socketEvents).toContain('reconnected');
    }
  });

  it('upstream server restarted: the daemon reconnects and clients get reconnecting / reconnected', async () => {
    const a = await world.env.connectedStrategy();
    const b = await world.env.connectedStrategy();
    await a.strategy.call('open', { tag: 'feed', url: world.upstream.url });
    await b.strategy.call('open', { tag: 'feed', url: world.upstream.url });
    await world.upstream.restart();
    for (const { strategy } of [a, b]) {
      await strategy.waitFor(() => strategy.events('reconnected').length === 1, 'reconnected');
      const [reconnecting] = strategy.events('reconnecting');
      expect((reconnecting!.info as { cause: string }).cause).toBe('upstream');
    }
    await eventually(() => world.upstream.openSockets === 1, 'reconnected upstream');
    expect(world.upstream.connections).toBe(2);
    world.upstream.broadcast(Buffer.from([9, 9, 9]));
    for (const { strategy } of [a, b]) {
      await strategy.waitFor(() => strategy.messages('feed').length === 1, 'data after the upstream restart');
      expect(strategy.messages('feed')[0]).toMatchObject({ binary: true, length: 3 });
    }
  });
});
