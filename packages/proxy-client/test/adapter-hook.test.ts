import { fileURLToPath } from 'node:url';
import type { SocketMessage } from '@wsproxy/client';
import { describe, expect, it } from 'vitest';
import { eventually, FAST_DAEMON_ARGS } from './helpers/environment.js';
import { perTestWorld } from './helpers/per-test.js';

const ADAPTER = fileURLToPath(new URL('./fixtures/uppercase-adapter.mjs', import.meta.url));

describe('adapter hook', () => {
  const world = perTestWorld([...FAST_DAEMON_ARGS, '--adapter', ADAPTER]);

  it('an adapter loaded with --adapter routes frames and answers subscriptions; unknown adapters are refused', async () => {
    const client = await world.env.client();
    const socket = await client.open(world.upstream.url, { adapter: 'uppercase-only' });
    const received: SocketMessage[] = [];
    socket.on('message', (message) => received.push(message));
    for (const frame of ['lower', 'UPPER', 'mixed', 'Second']) world.upstream.broadcast(frame);
    await eventually(() => received.length === 2, 'routed frames');
    expect(received.map((m) => m.data)).toEqual(['UPPER', 'Second']);

    // An adapter that throws on a frame: that frame is lost and members hear it as a gap (like every other loss,
    // counted in status), not as an error event that vanishes when nobody listens; the daemon and later frames go on.
    const errors: Array<{ code: string }> = [];
    const gaps: Array<{ lostMessages: number; lostBytes: number; lostRecords: number; pending: boolean }> =
      [];
    socket.on('error', (error) => errors.push(error));
    socket.on('gap', (gap) => gaps.push(gap));
    world.upstream.broadcast('THROW');
    world.upstream.broadcast('After');
    await eventually(() => received.length === 3 && gaps.length === 1, 'a gap and the next frame');
    // Not a lap: no ring record was skipped and nothing is left to count.
    expect(gaps).toEqual([{ lostMessages: 1, lostBytes: 'THROW'.length, lostRecords: 0, pending: false }]);
    expect(errors).toEqual([]);
    expect(received[2]!.data).toBe('After');
    const me = (await client.status()).clients.find((c) => c.clientId === client.clientId);
    expect(me).toMatchObject({ gaps: 1, lostMessages: 1 });

    const first = await socket.subscribe('AAPL');
    expect(first.alreadySubscribed).toBe(false);
    expect(first.reply.toString()).toBe('ack AAPL');
    expect((await socket.subscribe('AAPL')).alreadySubscribed).toBe(true);
    await eventually(() => world.upstream.received.length === 1, 'one SUB upstream');
    expect(world.upstream.received[0]!.data.toString()).toBe('SUB AAPL');
    await expect(socket.unsubscribe('AAPL')).rejects.toMatchObject({ code: 'WSP_ERR_NOT_SUPPORTED' });

    await expect(client.open(world.upstream.url, { adapter: 'nope' })).rejects.toMatchObject({
      code: 'WSP_ERR_UNKNOWN_ADAPTER',
    });
    // Passthrough and the adapter are different connections to the same URL.
    const plain = await client.open(world.upstream.url);
    expect(plain.isNew).toBe(true);
    expect(world.upstream.connections).toBe(2);
  });
});
