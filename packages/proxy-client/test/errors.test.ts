import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as connectSocket, type Socket } from 'node:net';
import {
  ControlStreamDecoder,
  type DaemonMessage,
  encodeControlFrame,
  PROTOCOL_VERSION,
} from '@wsproxy/protocol';
import { describe, expect, it } from 'vitest';
import { FAST_DAEMON_ARGS } from './helpers/environment.js';
import { perTestWorld } from './helpers/per-test.js';
import type { RemoteError } from './helpers/strategy-process.js';
import { UpstreamServer } from './helpers/upstream-server.js';

/** A hand-driven control connection: lets a test speak (or break) the protocol directly. */
async function rawConnection(
  path: string,
): Promise<{ socket: Socket; messages: DaemonMessage[]; closed: Promise<void> }> {
  const socket = connectSocket(path);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const messages: DaemonMessage[] = [];
  const decoder = new ControlStreamDecoder({ onMessage: (m) => messages.push(m as DaemonMessage) });
  socket.on('data', (chunk) => decoder.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, messages, closed };
}

async function rejection(promise: Promise<unknown>): Promise<RemoteError> {
  try {
    await promise;
  } catch (error) {
    return error as RemoteError;
  }
  throw new Error('expected a rejection');
}

describe('typed errors go to the culprit only', () => {
  const world = perTestWorld([...FAST_DAEMON_ARGS, '--log-level', 'trace']);

  it('wrong credentials for an existing connection: CredentialsMismatchError; the owner is undisturbed', async () => {
    const secret = `s3cr3t-${randomBytes(8).toString('hex')}`;
    const owner = await world.env.connectedStrategy();
    const intruder = await world.env.connectedStrategy();
    const headers = { 'APCA-API-KEY-ID': 'KEY1', 'APCA-API-SECRET-KEY': secret };
    await owner.strategy.call('open', { tag: 'feed', url: world.upstream.url, options: { headers } });
    expect(world.upstream.upgradeHeaders[0]!['apca-api-secret-key']).toBe(secret);

    const error = await rejection(
      intruder.strategy.call('open', {
        tag: 'feed',
        url: world.upstream.url,
        options: { headers: { ...headers, 'APCA-API-SECRET-KEY': 'guess' } },
      }),
    );
    expect(error).toMatchObject({
      code: 'WSP_ERR_CREDENTIALS_MISMATCH',
      errorName: 'CredentialsMismatchError',
    });
    const errorWithCredentialsField = await rejection(
      intruder.strategy.call('open', {
        tag: 'feed',
        url: world.upstream.url,
        options: { headers, credentials: { key: 'KEY1', secret: 'other' } },
      }),
    );
    expect(errorWithCredentialsField.code).toBe('WSP_ERR_CREDENTIALS_MISMATCH');
    expect(world.upstream.connections).toBe(1);

    // The same credentials join; a process without any gets a session of its own, never the owner's.
    const joined = await intruder.strategy.call<{ isNew: boolean }>('open', {
      tag: 'same',
      url: world.upstream.url,
      options: { headers },
    });
    expect(joined.isNew).toBe(false);
    const anonymous = await intruder.strategy.call<{ isNew: boolean }>('open', {
      tag: 'anon',
      url: world.upstream.url,
    });
    expect(anonymous.isNew).toBe(true);
    expect(world.upstream.connections).toBe(2);
    // A token in the query string is a secret too: used upstream, never logged.
    await intruder.strategy.call('open', { tag: 'token', url: `${world.upstream.url}?token=${secret}` });
    expect(world.upstream.connections).toBe(3);

    world.upstream.broadcast('after');
    await owner.strategy.waitFor(() => owner.strategy.messages('feed').length === 1, 'owner still receives');
    // Secrets never reach the log, even at trace level.
    expect(readFileSync(world.env.logPath, 'utf8')).not.toContain(secret);
  });

  it('invalid URL and unreachable host: typed errors; another client keeps receiving', async () => {
    const bystander = await world.env.connectedStrategy();
    await bystander.strategy.call('open', { tag: 'feed', url: world.upstream.url });
    const culprit = await world.env.connectedStrategy();

    for (const url of ['http://127.0.0.1/', 'not a url', 'ws://']) {
      const error = await rejection(culprit.strategy.call('open', { tag: 'bad', url }));
      expect(error).toMatchObject({ code: 'WSP_ERR_BAD_URL', errorName: 'BadUrlError' });
    }
    const closed = await new UpstreamServer().start();
    const deadUrl = closed.url;
    await closed.stop();
    const unreachable = await rejection(culprit.strategy.call('open', { tag: 'dead', url: deadUrl }));
    expect(unreachable).toMatchObject({
      code: 'WSP_ERR_UPSTREAM_UNREACHABLE',
      errorName: 'UpstreamUnreachableError',
    });
    // A retry after the failure gets a fresh attempt (and the same typed error), not a cached broken entry.
    expect((await rejection(culprit.strategy.call('open', { tag: 'dead', url: deadUrl }))).code).toBe(
      'WSP_ERR_UPSTREAM_UNREACHABLE',
    );

    world.upstream.broadcast('undisturbed');
    await bystander.strategy.waitFor(
      () => bystander.strategy.messages('feed').length === 1,
      'bystander data',
    );
    const status = await culprit.strategy.call<{ upstreams: unknown[]; clients: unknown[] }>('status');
    expect(status.upstreams).toHaveLength(1);
    expect(status.clients).toHaveLength(2);
  });

  it('a malformed control frame gets a protocol error and a disconnect, for that peer only', async () => {
    const bystander = await world.env.connectedStrategy();
    await bystander.strategy.call('open', { tag: 'feed', url: world.upstream.url });

    const garbage = await rawConnection(world.env.socketPath);
    garbage.socket.write(Buffer.from([0xff, 0x00, 0x13, 0x37]));
    await garbage.closed;
    expect(garbage.messages).toMatchObject([{ type: 'error', requestId: 0, code: 'WSP_ERR_PROTOCOL' }]);

    // A well-framed request before the handshake is refused the same way.
    const early = await rawConnection(world.env.socketPath);
    early.socket.write(encodeControlFrame({ type: 'status', requestId: 7 }));
    await early.closed;
    expect(early.messages).toMatchObject([{ type: 'error', code: 'WSP_ERR_HANDSHAKE_REQUIRED' }]);

    // A client from the future: refused, with the daemon's range so the client can name both.
    const future = await rawConnection(world.env.socketPath);
    future.socket.write(
      encodeControlFrame({
        type: 'hello',
        minVersion: 9,
        maxVersion: 9,
        clientPid: process.pid,
        clientName: 'future',
      }),
    );
    await future.closed;
    expect(future.messages).toMatchObject([
      { type: 'refused', code: 'WSP_PROTO_VERSION_MISMATCH', minVersion: 1, maxVersion: PROTOCOL_VERSION },
    ]);

    // The daemon validates what clients send, not only the client library: a bad URL straight on the wire.
    const direct = await rawConnection(world.env.socketPath);
    direct.socket.write(
      encodeControlFrame({
        type: 'hello',
        minVersion: 1,
        maxVersion: 1,
        clientPid: process.pid,
        clientName: 'raw',
      }),
    );
    direct.socket.write(
      encodeControlFrame({
        type: 'open',
        requestId: 5,
        url: 'ftp://x',
        adapter: '',
        headers: [],
        credentials: null,
      }),
    );
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (direct.messages.length >= 2) {
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    expect(direct.messages[0]!.type).toBe('welcome');
    expect(direct.messages[1]).toMatchObject({ type: 'error', requestId: 5, code: 'WSP_ERR_BAD_URL' });
    direct.socket.destroy();

    world.upstream.broadcast('still here');
    await bystander.strategy.waitFor(
      () => bystander.strategy.messages('feed').length === 1,
      'bystander data',
    );
    expect(bystander.strategy.events('disconnected')).toEqual([]);
  });
});
