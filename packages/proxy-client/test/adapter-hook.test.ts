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

    // An adapter that throws on a frame: that frame is lost, members are told, the daemon and later frames go on.
    const errors: Array<{ code: string }> = [];
    socket.on('error', (error) => errors.push(error));
    world.upstream.broadcast('THROW');
    world.upstream.broadcast('After');
    await eventually(() => received.length === 3 && errors.length === 1, 'error event and the next frame');
    expect(errors[0]!.code).toBe('WSP_ERR_INTERNAL');
    expect(received[2]!.data).toBe('After');

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
