import { fileURLToPath } from 'node:url';
import type { SocketMessage } from '@wsproxy/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, FAST_DAEMON_ARGS, TestEnvironment } from './helpers/environment.js';
import { UpstreamServer } from './helpers/upstream-server.js';

const ADAPTER = fileURLToPath(new URL('./fixtures/uppercase-adapter.mjs', import.meta.url));

describe('adapter hook', () => {
  let env: TestEnvironment;
  let upstream: UpstreamServer;

  beforeEach(async () => {
    env = new TestEnvironment([...FAST_DAEMON_ARGS, '--adapter', ADAPTER]);
    upstream = await new UpstreamServer().start();
  });

  afterEach(async () => {
    await env.cleanup();
    await upstream.stop();
  });

  it('an adapter loaded with --adapter routes frames and answers subscriptions; unknown adapters are refused', async () => {
    const client = await env.client();
    const socket = await client.open(upstream.url, { adapter: 'uppercase-only' });
    const received: SocketMessage[] = [];
    socket.on('message', (message) => received.push(message));
    for (const frame of ['lower', 'UPPER', 'mixed', 'Second']) upstream.broadcast(frame);
    await eventually(() => received.length === 2, 'routed frames');
    expect(received.map((m) => m.data)).toEqual(['UPPER', 'Second']);

    // An adapter that throws on a frame: that frame is lost, members are told, the daemon and later frames go on.
    const errors: Array<{ code: string }> = [];
    socket.on('error', (error) => errors.push(error));
    upstream.broadcast('THROW');
    upstream.broadcast('After');
    await eventually(() => received.length === 3 && errors.length === 1, 'error event and the next frame');
    expect(errors[0]!.code).toBe('WSP_ERR_INTERNAL');
    expect(received[2]!.data).toBe('After');

    const first = await socket.subscribe('AAPL');
    expect(first.alreadySubscribed).toBe(false);
    expect(first.reply.toString()).toBe('ack AAPL');
    expect((await socket.subscribe('AAPL')).alreadySubscribed).toBe(true);
    await eventually(() => upstream.received.length === 1, 'one SUB upstream');
    expect(upstream.received[0]!.data.toString()).toBe('SUB AAPL');
    await expect(socket.unsubscribe('AAPL')).rejects.toMatchObject({ code: 'WSP_ERR_NOT_SUPPORTED' });

    await expect(client.open(upstream.url, { adapter: 'nope' })).rejects.toMatchObject({
      code: 'WSP_ERR_UNKNOWN_ADAPTER',
    });
    // Passthrough and the adapter are different connections to the same URL.
    const plain = await client.open(upstream.url);
    expect(plain.isNew).toBe(true);
    expect(upstream.connections).toBe(2);
  });
});
