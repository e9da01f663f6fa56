import { ClosedError, connect, InvalidArgumentError, type SocketMessage } from '@wsproxy/client';
import { describe, expect, it } from 'vitest';
import { eventually, FAST_DAEMON_ARGS } from './helpers/environment.js';
import { perTestWorld } from './helpers/per-test.js';
import { UpstreamServer } from './helpers/upstream-server.js';

describe('WsproxyClient API (this process as the strategy)', () => {
  const world = perTestWorld([...FAST_DAEMON_ARGS, '--ping-interval', '200', '--pong-timeout', '200']);

  it('validates options up front with named errors', async () => {
    const cases: Array<[object, RegExp]> = [
      [{ namespace: '../etc' }, /namespace/],
      [{ idle: 'sometimes' }, /idle/],
      [{ connectTimeoutMs: -1 }, /connectTimeoutMs/],
      [{ daemonArgs: 'x' }, /daemonArgs/],
      [{ nmespace: 'typo' }, /unknown option "nmespace"/],
    ];
    for (const [options, message] of cases) {
      const error = await connect(options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({
        code: 'WSP_ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(message),
      });
    }
    const client = await world.env.client();
    await expect(client.open(world.upstream.url, { headers: { 'bad header': 'x' } })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(client.open(world.upstream.url, { credentials: { key: 'k' } as never })).rejects.toThrow(
      /credentials/,
    );
  });

  it('open, for await, send, setLogLevel, status, close; a closed client refuses work', async () => {
    const client = await world.env.client({ name: 'api-test' });
    expect(client.daemonPid).toBeGreaterThan(0);
    const socket = await client.open(world.upstream.url);
    expect(socket.isNew).toBe(true);
    expect(socket.state).toBe('open');

    const received: SocketMessage[] = [];
    const reading = (async () => {
      for await (const message of socket) {
        received.push(message);
        if (received.length === 2) break;
      }
    })();
    world.upstream.broadcast('one');
    world.upstream.broadcast(Buffer.from([1, 2]));
    await reading;
    expect(received).toEqual([
      { binary: false, data: 'one' },
      { binary: true, data: Buffer.from([1, 2]) },
    ]);

    await socket.send('up');
    await eventually(() => world.upstream.received.length === 1, 'frame upstream');
    expect(world.upstream.received[0]!.data.toString()).toBe('up');

    await client.setLogLevel('debug');
    const status = await client.status();
    expect(status.daemon.logLevel).toBe('debug');
    expect(status.clients.map((c) => c.name)).toEqual(['api-test']);
    expect(status.upstreams).toMatchObject([
      { state: 'open', adapter: 'passthrough', clients: [client.clientId] },
    ]);
    expect(status.clients[0]!.deliveredMessages).toBe(2);

    const closed = new Promise((resolve) => socket.once('close', resolve));
    await socket.close();
    expect(await closed).toMatchObject({ code: 1000 });
    await expect(socket.send('x')).rejects.toThrow(ClosedError);
    await client.close();
    await expect(client.status()).rejects.toMatchObject({ code: 'WSP_ERR_CLOSED' });
  });

  it('every idle strategy delivers: block, backoff, spin', async () => {
    for (const idle of ['block', 'backoff', 'spin'] as const) {
      const client = await world.env.client({ idle });
      const socket = await client.open(world.upstream.url);
      const messages = socket[Symbol.asyncIterator]();
      world.upstream.broadcast(`via ${idle}`);
      expect((await messages.next()).value).toEqual({ binary: false, data: `via ${idle}` });
      await client.close();
    }
  });

  it('a greeting the server sends on connect reaches the opener, before anything later', async () => {
    const greeter = await new UpstreamServer({ greeting: '[{"T":"success","msg":"connected"}]' }).start();
    try {
      const client = await world.env.client();
      const socket = await client.open(greeter.url);
      const messages = socket[Symbol.asyncIterator]();
      greeter.broadcast('next');
      expect((await messages.next()).value).toEqual({
        binary: false,
        data: '[{"T":"success","msg":"connected"}]',
      });
      expect((await messages.next()).value).toEqual({ binary: false, data: 'next' });
    } finally {
      await greeter.stop();
    }
  });

  it('an upstream that stops answering pings is declared dead and reconnected', async () => {
    const silent = await new UpstreamServer({ autoPong: false }).start();
    try {
      const client = await world.env.client();
      const socket = await client.open(silent.url);
      const reconnecting = new Promise((resolve) => socket.once('reconnecting', resolve));
      expect(await reconnecting).toMatchObject({ cause: 'upstream', attempt: 1 });
      await new Promise((resolve) => socket.once('reconnected', resolve));
      expect(silent.connections).toBeGreaterThanOrEqual(2);
    } finally {
      await silent.stop();
    }
  });
});
