// The shim between the wsproxy daemon's adapter hook (`UpstreamAdapter`, @wsproxy/proxy-server) and the I/O-free
// sessions of this package. The daemon owns the sockets and the ring; this only translates calls.

import type { AdapterStats } from '@wsproxy/protocol';
import type {
  AdapterContext,
  ClientId,
  SubscribeResult,
  UnsubscribeResult,
  UpstreamAdapter,
  UpstreamAdapterFactory,
} from '@wsproxy/proxy-server';
import { AccountSession } from './account-stream.js';
import type { AlpacaCredentials } from './auth.js';
import { type AlpacaEndpointOptions, createAlpacaEndpoint } from './endpoint.js';
import { BadParamsError, InvalidArgumentError, UpstreamError } from './errors.js';
import { classifyAlpacaUrl, type Encoding, type FeedKind } from './feeds.js';
import { AlpacaSession, type RequestAnswer, type SessionEvent, type SessionOutput } from './session.js';
import { RestSnapshotSource } from './snapshot.js';
import { decodeRaw, looksLikeJson } from './wire.js';

export interface AlpacaAdapterOptions {
  /** Replay latest trade/quote/bar and order books to late joiners. Default true. */
  readonly replayLatest?: boolean;
  /**
   * REST base for `snapshot: true`. Default: derived from the stream URL (`stream.data[.sandbox].alpaca.markets`
   * -> `https://data[.sandbox].alpaca.markets`; any other host, like the mock, serves REST on the same port).
   */
  readonly restBaseUrl?: string;
  /** Give up on Alpaca's authentication of a new upstream after this long (ms). Default 15 000. */
  readonly authTimeoutMs?: number;
  /** How the daemon's drop-in endpoint (`wsproxy start --listen`) serves Alpaca's protocol. Default: its defaults. */
  readonly endpoint?: AlpacaEndpointOptions;
}

/** The REST host that goes with a stream host. */
export function restBaseUrlFor(streamUrl: string): string {
  const url = new URL(streamUrl);
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  if (url.hostname === 'stream.data.alpaca.markets') return 'https://data.alpaca.markets';
  if (url.hostname === 'stream.data.sandbox.alpaca.markets') return 'https://data.sandbox.alpaca.markets';
  return `${secure ? 'https' : 'http'}://${url.host}`;
}

function header(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** Owner credentials: the open's `credentials`, else Alpaca's upgrade headers (then the upgrade authenticates). */
function ownerCredentials(context: AdapterContext): { credentials: AlpacaCredentials; viaHeaders: boolean } {
  if (context.credentials) {
    return {
      credentials: { keyId: context.credentials.key, secretKey: context.credentials.secret },
      viaHeaders: false,
    };
  }
  const keyId = header(context.headers, 'apca-api-key-id');
  const secretKey = header(context.headers, 'apca-api-secret-key');
  if (keyId && secretKey) return { credentials: { keyId, secretKey }, viaHeaders: true };
  throw new InvalidArgumentError(
    'the alpaca adapter needs credentials: open the socket with { credentials: { key, secret } } or the APCA-API-KEY-ID / APCA-API-SECRET-KEY headers',
  );
}

/**
 * Waits for the session's authentication, or fails on Alpaca's refusal or a timeout. It also keeps what
 * `wsproxy status` and `/readyz` say about authentication: refusals and timeouts, and the last error.
 */
class ReadyGate {
  private waiting: { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  /** Authentication refusals and timeouts since the upstream was created. */
  authFailures = 0;
  /** Alpaca's last error (code and message: never credentials); cleared by a successful authentication. */
  lastError: string | undefined;

  wait(timeoutMs: number): Promise<void> {
    this.settle(new UpstreamError(500, 'superseded by a newer connection'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new UpstreamError(404, `not authenticated within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiting = { resolve, reject, timer };
    });
  }

  /** Alpaca refused (or did not answer) while we waited for authentication; later errors are only remembered. */
  fail(error: UpstreamError): void {
    this.lastError = error.message;
    if (!this.waiting) return;
    this.authFailures++;
    this.settle(error);
  }

  succeeded(): void {
    this.lastError = undefined;
    this.settle();
  }

  settle(error?: Error): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = undefined;
    clearTimeout(w.timer);
    if (error) w.reject(error);
    else w.resolve();
  }
}

function outputFor(context: AdapterContext, gate: ReadyGate): SessionOutput {
  return {
    deliver: (recipients, bytes, isBinary) =>
      context.deliver(recipients as readonly number[], bytes, isBinary),
    sendUpstream: (bytes, isBinary) => {
      context.sendUpstream(bytes, isBinary);
    },
    event: (event: SessionEvent) => {
      switch (event.type) {
        case 'upstream-authenticated':
          gate.succeeded();
          break;
        case 'upstream-error':
          // Secrets never reach logs: the error carries only Alpaca's code and message.
          context.logger.warn({ code: event.error.alpacaCode }, event.error.message);
          gate.fail(event.error);
          break;
        case 'slow-client-warning':
          context.logger.warn('Alpaca sent 407 slow client: passed on to every client');
          break;
        case 'resubscribed':
          context.logger.info(
            { channels: [...event.union.keys()] },
            'resubscribed the union after reconnecting',
          );
          break;
        case 'malformed-upstream-frame':
          context.logger.warn({ offset: event.error.offset }, event.error.message);
          break;
        case 'unknown-item-type':
          context.logger.warn(
            { itemType: event.itemType },
            'Alpaca sent an item type this adapter does not know: forwarded to the subscribers of its symbol',
          );
          break;
        case 'snapshot-failed':
          context.logger.warn({ client: event.clientId, err: event.error }, 'snapshot fetch failed');
          break;
        case 'held-data-dropped':
          context.logger.warn(
            { client: event.clientId, dropped: event.dropped },
            'held data dropped during snapshot',
          );
          break;
      }
    },
  };
}

function asMessage(params: Uint8Array, action: string): { bytes: Uint8Array; isBinary: boolean } {
  // `socket.subscribe('{"trades":["AAPL"]}')` without an action means what the method says.
  const json = looksLikeJson(params);
  let decoded: unknown;
  try {
    decoded = decodeRaw(params, json ? 'json' : 'msgpack');
  } catch (error) {
    throw new BadParamsError(`${action} parameters are neither JSON nor msgpack`, { cause: error });
  }
  if (typeof decoded === 'object' && decoded !== null && !Array.isArray(decoded) && !('action' in decoded)) {
    return { bytes: Buffer.from(JSON.stringify({ action, ...decoded })), isBinary: false };
  }
  return { bytes: params, isBinary: !json };
}

/** A state a client hands back to `restore`: a JSON object, else a typed error to that client alone. */
function parseState(state: Uint8Array, expected: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(state).toString('utf8'));
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidArgumentError(expected);
  return value as Record<string, unknown>;
}

function marketDataAdapter(
  context: AdapterContext,
  options: AlpacaAdapterOptions,
  feed: FeedKind,
  feedName: string,
): UpstreamAdapter {
  const { credentials, viaHeaders } = ownerCredentials(context);
  const contentType = header(context.headers, 'content-type') ?? '';
  const encoding: Encoding = contentType.includes('msgpack') ? 'msgpack' : 'json';
  const gate = new ReadyGate();
  const snapshots =
    feed === 'news'
      ? undefined
      : new RestSnapshotSource({
          baseUrl: options.restBaseUrl ?? restBaseUrlFor(context.url),
          feed,
          feedName,
          credentials,
        });
  const session = new AlpacaSession(
    {
      feed,
      encoding,
      credentials,
      upstreamAuth: viaHeaders ? 'headers' : 'message',
      ...(options.replayLatest === undefined ? {} : { replayLatest: options.replayLatest }),
      ...(snapshots ? { snapshots } : {}),
    },
    outputFor(context, gate),
  );
  let openedConnections = 0;
  const timeout = options.authTimeoutMs ?? 15_000;

  const request = (client: ClientId, params: Uint8Array, action: string) =>
    new Promise<{ reply: Uint8Array; upstreamChanged: boolean }>((resolve) => {
      const { bytes, isBinary } = asMessage(params, action);
      session.onClientMessage(client, bytes, isBinary, resolve);
    });
  // A client's acknowledged state is its ack without `T`: what `AlpacaStream.subscriptions` shows, and what
  // `restore` takes back after a daemon restart.
  const setOf = (client: ClientId) => {
    const { T: _type, ...set } = session.ackFor(client);
    return set;
  };
  const stateOf = (client: ClientId) => Buffer.from(JSON.stringify(setOf(client)));

  return {
    onUpstreamOpen(reconnected) {
      // The greeting (and even the whole authentication) may already have happened for this connection.
      const seen = openedConnections;
      openedConnections = session.connections;
      if (session.ready && session.connections > seen) return;
      // A new connection whose greeting is not read yet is not authenticated, though the session still says so
      // until that greeting arrives: a client's subscribe sent now would meet Alpaca's 401 "not authenticated".
      // Hold every change from here until the new session's `authenticated`.
      if (reconnected && session.connections === seen) session.onUpstreamClosed();
      openedConnections = Math.max(openedConnections, seen + 1);
      return gate.wait(timeout);
    },
    onUpstreamLost() {
      // From the drop on, a change is queued (not sent into a dead socket, nor answered from the dead session's
      // state) and a rejoining client gets no stale "latest" item: both wait for the new session's resync.
      session.onUpstreamClosed();
    },
    onUpstreamFrame(frame) {
      session.onUpstreamMessage(frame.data, frame.isBinary);
    },
    onClientFrame(client, frame) {
      session.onClientMessage(client, frame.data, frame.isBinary);
    },
    onClientJoin(client) {
      session.onClientAttached(client, { greet: false });
    },
    onClientLeave(client) {
      session.onClientGone(client);
    },
    async subscribe(client, params): Promise<SubscribeResult> {
      const answer = await request(client, params, 'subscribe');
      return { alreadySubscribed: !answer.upstreamChanged, reply: answer.reply, state: stateOf(client) };
    },
    async unsubscribe(client, params): Promise<UnsubscribeResult> {
      const answer = await request(client, params, 'unsubscribe');
      return { stillSubscribed: !answer.upstreamChanged, reply: answer.reply, state: stateOf(client) };
    },
    async restore(client, state): Promise<SubscribeResult> {
      const wanted = parseState(
        state,
        'an Alpaca subscription state must be a JSON object of channel -> symbols',
      );
      const answer = await new Promise<RequestAnswer>((resolve) => session.restore(client, wanted, resolve));
      return { alreadySubscribed: !answer.upstreamChanged, reply: answer.reply, state: stateOf(client) };
    },
    subscriptions() {
      return new Map([...context.members()].map((client) => [client, setOf(client)]));
    },
    dispose() {
      gate.settle(new UpstreamError(500, 'upstream closed'));
    },
    stats(): AdapterStats {
      const subscriptions: Record<string, number> = {};
      for (const [channel, symbols] of session.book.union()) subscriptions[channel] = symbols.size;
      return {
        authenticated: session.ready,
        authFailures: gate.authFailures,
        ...(gate.lastError ? { lastError: gate.lastError } : {}),
        subscriptions,
        itemsRouted: session.stats.routedItems,
        itemsUnrouted: session.stats.unroutedItems,
        unknownTypeItems: session.stats.unknownTypeItems,
        malformedUpstreamFrames: session.stats.malformedUpstreamFrames,
        upstreamRequests: session.book.stats.upstreamRequests,
      };
    },
  };
}

function accountAdapter(context: AdapterContext, options: AlpacaAdapterOptions): UpstreamAdapter {
  const { credentials } = ownerCredentials(context);
  const gate = new ReadyGate();
  const session = new AccountSession({ credentials }, outputFor(context, gate));
  const timeout = options.authTimeoutMs ?? 15_000;
  // A client's state is its listen set, `{ streams: [...] }`.
  const stateOf = (client: ClientId) => Buffer.from(JSON.stringify({ streams: session.streamsOf(client) }));
  const listen = (client: ClientId, params: Uint8Array) =>
    new Promise<Uint8Array>((resolve) => {
      const decoded = decodeRaw(params, 'json') as Record<string, unknown>;
      // `subscribe({ streams: [...] })` is a listen; a full listen message passes as is.
      const message = 'action' in decoded ? decoded : { action: 'listen', data: decoded };
      session.onClientMessage(client, JSON.stringify(message), false, resolve);
    });
  return {
    onUpstreamLost() {
      session.onUpstreamClosed();
    },
    onUpstreamOpen(reconnected) {
      if (reconnected) session.onUpstreamClosed();
      const ready = gate.wait(timeout);
      session.onUpstreamOpen();
      return ready;
    },
    onUpstreamFrame(frame) {
      session.onUpstreamMessage(frame.data, frame.isBinary);
    },
    onClientFrame(client, frame) {
      session.onClientMessage(client, frame.data, frame.isBinary);
    },
    onClientJoin(client) {
      session.onClientAttached(client);
    },
    onClientLeave(client) {
      session.onClientGone(client);
    },
    async subscribe(client, params) {
      const reply = await listen(client, params);
      return { alreadySubscribed: false, reply, state: stateOf(client) };
    },
    stats(): AdapterStats {
      return {
        authenticated: session.ready,
        authFailures: gate.authFailures,
        ...(gate.lastError ? { lastError: gate.lastError } : {}),
      };
    },
    async unsubscribe(client) {
      const reply = await new Promise<Uint8Array>((resolve) =>
        session.onClientMessage(
          client,
          JSON.stringify({ action: 'listen', data: { streams: [] } }),
          false,
          resolve,
        ),
      );
      return { stillSubscribed: session.union().length > 0, reply, state: stateOf(client) };
    },
    async restore(client, state) {
      const { streams } = parseState(
        state,
        'an Alpaca account state must be a JSON object { streams: [...] }',
      );
      if (!Array.isArray(streams) || !streams.every((s) => typeof s === 'string'))
        throw new InvalidArgumentError('an Alpaca account state must be a JSON object { streams: [...] }');
      const reply = await listen(client, Buffer.from(JSON.stringify({ streams })));
      return { alreadySubscribed: false, reply, state: stateOf(client) };
    },
    subscriptions() {
      return new Map(
        [...context.members()].map((client) => [client, { streams: session.streamsOf(client) }]),
      );
    },
    dispose() {
      gate.settle(new UpstreamError(500, 'upstream closed'));
    },
  };
}

/** Builds the daemon's `alpaca` adapter factory (open sockets with `{ adapter: 'alpaca' }`). */
export function createAlpacaAdapter(options: AlpacaAdapterOptions = {}): UpstreamAdapterFactory {
  return {
    name: 'alpaca',
    endpoint: createAlpacaEndpoint(options.endpoint),
    // Alpaca's keys travel in these headers (or in the auth message, compared as `credentials`); nothing else
    // the client sends (Content-Type: msgpack, User-Agent) identifies the account.
    credentialHeaders: ['apca-api-key-id', 'apca-api-secret-key'],
    create(context) {
      const target = classifyAlpacaUrl(context.url);
      if (!target) {
        throw new InvalidArgumentError(`${context.url} is not an Alpaca stream URL (see classifyAlpacaUrl)`);
      }
      if (target.kind === 'account') return accountAdapter(context, options);
      return marketDataAdapter(context, options, target.kind, target.feed);
    },
  };
}

/** The `alpaca` adapter with default options. */
export const alpacaAdapter: UpstreamAdapterFactory = createAlpacaAdapter();
