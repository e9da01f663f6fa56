// Passthrough subscriptions are a set keyed by topic, and that set is what survives faults: an upstream that drops
// gets every held topic again on its new connection, and a daemon SIGKILL restores each client's acknowledged set
// (not a replay of its requests). Each fault is checked in all three views: the process's (`subscriptionState`),
// the daemon's (`status()` -> upstreams[].subscriptions) and the upstream's (what the real server received).
import type { DaemonStatus } from '@wsproxy/protocol';
import { describe, expect, it } from 'vitest';
import { eventually } from './helpers/environment.js';
import { perTestWorld } from './helpers/per-test.js';
import type { StrategyProcess } from './helpers/strategy-process.js';

const subscribe = (strategy: StrategyProcess, topic: string) =>
  strategy.call<{ alreadySubscribed: boolean; state: string | null }>('subscribe', {
    tag: 'feed',
    params: topic,
  });
const viewOf = async (strategy: StrategyProcess) =>
  JSON.parse(
    (await strategy.call<{ state: string | null }>('subscriptionState', { tag: 'feed' })).state ?? '[]',
  ) as string[];
const daemonSets = async (strategy: StrategyProcess) => {
  const status = await strategy.call<DaemonStatus>('status');
  expect(status.upstreams).toHaveLength(1);
  return status.upstreams[0]!.subscriptions as Record<string, string[]>;
};
const clientId = async (strategy: StrategyProcess) =>
  (await strategy.call<DaemonStatus>('status')).clients.find((c) => c.pid === strategy.child.pid)!.clientId;

describe('passthrough subscription state', () => {
  const world = perTestWorld();

  it('upstream drop: every held topic is sent again on the new connection, and a later subscribe is answered by the set', async () => {
    const a = await world.env.connectedStrategy();
    const b = await world.env.connectedStrategy();
    for (const { strategy } of [a, b]) await strategy.call('open', { tag: 'feed', url: world.upstream.url });
    expect(await subscribe(a.strategy, 'sub:AAPL')).toMatchObject({ alreadySubscribed: false });
    expect(await subscribe(b.strategy, 'sub:AAPL')).toMatchObject({ alreadySubscribed: true });
    expect(await subscribe(b.strategy, 'sub:MSFT')).toMatchObject({ alreadySubscribed: false });
    await eventually(() => world.upstream.received.length === 2, 'two topics upstream');

    const before = world.upstream.received.length;
    await world.upstream.restart();
    for (const { strategy } of [a, b])
      await strategy.waitFor(() => strategy.events('reconnected').length === 1, 'reconnected');
    // The new upstream connection holds the whole union again, each topic once.
    await eventually(
      () => world.upstream.received.length - before === 2,
      'topics re-sent after the reconnect',
    );
    const resent = world.upstream.received.slice(before).map((f) => f.data.toString());
    expect(resent.sort()).toEqual(['sub:AAPL', 'sub:MSFT']);

    // The three views agree: each process's, the daemon's per client, and the upstream's (= their union).
    const sets = await daemonSets(a.strategy);
    expect(sets[String(await clientId(a.strategy))]).toEqual(await viewOf(a.strategy));
    expect(sets[String(await clientId(b.strategy))]).toEqual(await viewOf(b.strategy));
    expect(await viewOf(a.strategy)).toEqual(['sub:AAPL']);
    expect((await viewOf(b.strategy)).sort()).toEqual(['sub:AAPL', 'sub:MSFT']);
    // A later identical subscribe is answered from the set: the upstream already has it, nothing is sent.
    expect(await subscribe(a.strategy, 'sub:MSFT')).toMatchObject({ alreadySubscribed: true });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(world.upstream.received.length - before).toBe(2);
  });

  it('daemon SIGKILL: the acknowledged set is restored, an unsubscribed topic is not', async () => {
    const a = await world.env.connectedStrategy();
    await a.strategy.call('open', { tag: 'feed', url: world.upstream.url });
    await subscribe(a.strategy, 'sub:AAPL');
    await subscribe(a.strategy, 'sub:MSFT');
    const after = await a.strategy.call<{ state: string }>('unsubscribe', {
      tag: 'feed',
      params: 'sub:AAPL',
    });
    expect(JSON.parse(after.state)).toEqual(['sub:MSFT']);

    const before = world.upstream.received.length;
    process.kill(a.daemonPid, 'SIGKILL');
    await a.strategy.waitFor(() => a.strategy.events('reconnected').length === 1, 'reconnected', 30_000);
    await eventually(() => world.upstream.openSockets === 1, 'one upstream after recovery');
    await eventually(() => world.upstream.received.length > before, 'the set restored upstream');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(world.upstream.received.slice(before).map((f) => f.data.toString())).toEqual(['sub:MSFT']);
    expect(await viewOf(a.strategy)).toEqual(['sub:MSFT']);
    expect((await daemonSets(a.strategy))[String(await clientId(a.strategy))]).toEqual(['sub:MSFT']);

    // The socket's event says what was lost and what was restored.
    const [reconnected] = a.strategy.events('reconnected');
    const info = reconnected!.info as {
      cause: string;
      lostFrom: number;
      lostUntil: number;
      downtimeMs: number;
      restored: { state: { type: string; data: number[] } };
    };
    expect(info.cause).toBe('daemon');
    expect(info.lostUntil - info.lostFrom).toBe(info.downtimeMs);
    expect(info.downtimeMs).toBeGreaterThan(0);
    expect(Buffer.from(info.restored.state.data).toString()).toBe('["sub:MSFT"]');
  });
});
