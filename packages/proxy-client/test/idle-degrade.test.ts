import { availableParallelism } from 'node:os';
import type { IdleChange, WsproxyClient } from '@wsproxy/client';
import { describe, expect, it } from 'vitest';
import { eventually, FAST_DAEMON_ARGS } from './helpers/environment.js';
import { perTestWorld } from './helpers/per-test.js';

describe("idle: 'spin' on a machine with fewer cores than spinners", () => {
  const world = perTestWorld(FAST_DAEMON_ARGS);

  it('the clients past the cores to spare step down to block and say why; data still flows to all', async () => {
    // The default allows availableParallelism() - 1 spinners per ring (the daemon needs a core); the extra ones
    // block. (An allowed one may block too, for a while, with reason `preempted` on a busy machine.)
    const allowed = Math.max(1, availableParallelism() - 1);
    const count = allowed + 2;
    const clients: WsproxyClient[] = [];
    const changes = new Map<WsproxyClient, IdleChange[]>();
    for (let i = 0; i < count; i++) {
      const client = await world.env.client({ idle: 'spin', name: `spinner-${i}` });
      changes.set(client, []);
      client.on('idle', (change) => changes.get(client)!.push(change));
      clients.push(client);
    }
    // Every reader reviews its strategy when it first waits, and again every 100 ms while it waits.
    const oversubscribed = () => clients.filter((c) => c.idleDegraded === 'oversubscribed');
    await eventually(() => oversubscribed().length === count - allowed, 'the extra spinners to step down');
    for (const client of oversubscribed()) expect(client.effectiveIdle).toBe('block');

    // The first spinner leaves: the next in line (by reader slot) goes back to spinning, and says so.
    const spinner = clients.find((c) => c.idleDegraded === undefined)!;
    await spinner.close();
    const rest = clients.filter((c) => c !== spinner);
    // A blocked reader looks again when it next waits, i.e. after its next doorbell: let data flow.
    const sockets = await Promise.all(rest.map((c) => c.open(world.upstream.url)));
    const got = sockets.map(() => 0);
    sockets.forEach((socket, i) => {
      socket.on('message', () => {
        got[i]! += 1;
      });
    });
    let sent = 0;
    const ticker = setInterval(() => world.upstream.broadcast(`tick ${sent++}`), 20);
    await eventually(
      () => rest.filter((c) => c.idleDegraded === 'oversubscribed').length === count - allowed - 1,
      'one blocked client to spin again',
    );
    const promoted = rest.find((c) => changes.get(c)!.at(-1)?.effective === 'spin')!;
    clearInterval(ticker);
    expect(changes.get(promoted)!.at(-1)).toMatchObject({ requested: 'spin', reason: undefined });
    // Blocked or spinning, every client got every message.
    await eventually(() => got.every((n) => n === sent), 'every client to get every message');
  });
});
