// The drop-in endpoint: a local WebSocket listener whose connections become daemon clients of a shared upstream,
// exactly like shared-memory clients, but served over their own socket. The vendor's language is the protocol's
// business (endpoint-protocol.ts); this owns the listener, the access token, per-connection limits and membership.

import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EndpointConnectionStatus, EndpointStatus } from '@wsproxy/protocol';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ClientId } from '../adapter.js';
import { InvalidArgumentError } from '../errors.js';
import type { SharedUpstream, UpstreamRegistry } from '../upstream/upstream-registry.js';
import type {
  EndpointConnection,
  EndpointConnectionHandler,
  EndpointFrame,
  EndpointProtocol,
} from './endpoint-protocol.js';
import { isLoopback } from './listen-address.js';

export interface LocalEndpointOptions {
  /** Interface to bind. Default 127.0.0.1; anything but loopback requires `accessToken`. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /**
   * Required from every client when set: as `Authorization: Bearer <token>`, `?token=<token>`, or the first path
   * segment (`ws://host:port/<token>/v2/iex`, for SDKs that only take a base URL).
   */
  readonly accessToken?: string;
  /** Serve `wss://` with this PEM certificate and key (files). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Bytes a connection may have queued unsent before it counts as too slow and is closed. Default 8 MiB. */
  readonly maxBufferedBytes?: number;
  /** Largest incoming message (after reassembling fragments); bigger closes the connection with 1009. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** A connection that has not joined an upstream in this time is closed (Alpaca: 10 s auth timeout). */
  readonly joinTimeoutMs?: number;
}

/** Endpoint client ids start here, far above the shared-memory clients' ids, so the two never collide. */
export const FIRST_ENDPOINT_CLIENT_ID = 0x4000_0000;

/** How long a connection marked too slow may take to read its backlog and the close frame before it is cut. */
const SLOW_CLOSE_GRACE_MS = 5_000;

/**
 * How long connections we closed ourselves for an upstream redial (1012) still count as here: an SDK reconnects
 * after its own delay (a few seconds), and the daemon must still be there when it does.
 */
export const REDIAL_RETURN_MS = 30_000;

export interface LocalEndpointHost {
  readonly upstreams: UpstreamRegistry;
  readonly logger: Logger;
  readonly protocol: EndpointProtocol;
  /** A connection opened or closed (the daemon's linger counts endpoint connections as clients). */
  activity(): void;
  /**
   * A plain HTTP request (not an upgrade), e.g. `/metrics` or `/readyz` served on the endpoint's port. Returns false
   * when it does not serve that path. `authorized` says whether the request carried the access token (or none is
   * set): health probes need none, metrics do.
   */
  httpRequest?(request: IncomingMessage, response: ServerResponse, authorized: boolean): boolean;
}

function tokenMatches(expected: Buffer, given: string | undefined | null): boolean {
  if (!given) return false;
  const buffer = Buffer.from(given);
  return buffer.length === expected.length && timingSafeEqual(buffer, expected);
}

/** What `wsproxy status` shows of a connection besides its counters: fixed at the upgrade, never the token. */
interface EndpointPeer {
  /** `address:port`. */
  readonly remote: string;
  /** The upgrade's path with the token segment removed and without the query (which may hold `?token=`). */
  readonly path: string;
  /** What the upgrade's Content-Type asked for: the vendor protocol answers in msgpack or JSON accordingly. */
  readonly format: 'json' | 'msgpack';
}

function peerOf(request: IncomingMessage, path: string): EndpointPeer {
  const { remoteAddress = '?', remotePort = 0 } = request.socket;
  const host = remoteAddress.includes(':') ? `[${remoteAddress}]` : remoteAddress;
  const contentType = (request.headers['content-type'] ?? '').toLowerCase();
  return {
    remote: `${host}:${remotePort}`,
    path,
    format: contentType.includes('msgpack') ? 'msgpack' : 'json',
  };
}

class EndpointClient implements EndpointConnection {
  upstream: SharedUpstream | undefined;
  closing = false;
  /** Closed for overrunning its send buffer (Alpaca's 407), as opposed to an ordinary close. */
  private slow = false;
  private readonly connectedAt = Date.now();
  messagesIn = 0;
  private messagesOut = 0;
  private bytesOut = 0;
  private slowTimer: NodeJS.Timeout | undefined;
  private joinTimer: NodeJS.Timeout | undefined;
  /** Frames dropped because the connection was already marked slow. */
  dropped = 0;

  constructor(
    readonly id: ClientId,
    private readonly socket: WebSocket,
    readonly handler: EndpointConnectionHandler,
    private readonly endpoint: LocalEndpoint,
    private readonly peer: EndpointPeer,
  ) {}

  /** Built on demand for `wsproxy status`; the hot path only bumps three counters. */
  status(): EndpointConnectionStatus {
    return {
      clientId: this.id,
      ...this.peer,
      connectionId: this.upstream?.id ?? null,
      state: this.slow ? 'slow' : this.closing ? 'closing' : this.upstream ? 'open' : 'joining',
      connectedMs: Date.now() - this.connectedAt,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      bytesOut: this.bytesOut,
      bufferedBytes: this.socket.bufferedAmount,
      dropped: this.dropped,
    };
  }

  start(joinTimeoutMs: number): void {
    this.joinTimer = setTimeout(() => {
      if (!this.upstream) this.close(1008, 'auth timeout', this.handler.joinTimedOut());
    }, joinTimeoutMs);
    this.handler.opened(this);
  }

  send(frame: EndpointFrame): void {
    if (this.closing) {
      this.dropped++;
      return;
    }
    this.socket.send(frame.data, { binary: frame.isBinary });
    this.messagesOut++;
    this.bytesOut += frame.data.byteLength;
    if (this.socket.bufferedAmount > this.endpoint.maxBufferedBytes) this.tooSlow();
  }

  deliver(frame: EndpointFrame): void {
    if (this.closing) {
      this.dropped++;
      return;
    }
    this.send(this.handler.outgoing(frame));
  }

  private tooSlow(): void {
    this.endpoint.logger.warn(
      { client: this.id, buffered: this.socket.bufferedAmount },
      'endpoint client too slow: closing it',
    );
    this.slow = true;
    this.endpoint.slowClientCloses++;
    this.close(1008, 'slow client', this.handler.tooSlow());
    // A client that does not read will not read the close frame either.
    this.slowTimer = setTimeout(() => this.socket.terminate(), SLOW_CLOSE_GRACE_MS);
  }

  close(code: number, reason: string, last?: EndpointFrame): void {
    if (this.closing) return;
    if (last) this.socket.send(last.data, { binary: last.isBinary });
    this.closing = true;
    this.socket.close(code, reason);
  }

  async join(request: Parameters<EndpointConnection['join']>[0]): Promise<void> {
    if (this.upstream) throw new InvalidArgumentError('this connection has already joined an upstream');
    const { upstream } = await this.endpoint.upstreams.open(this.id, request);
    if (this.closing) {
      await this.endpoint.upstreams.release(this.id, upstream);
      return;
    }
    clearTimeout(this.joinTimer);
    this.upstream = upstream;
  }

  toUpstream(frame: EndpointFrame): void {
    const upstream = this.upstream;
    if (!upstream) return;
    const data = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
    if (upstream.adapter.onClientFrame)
      upstream.adapter.onClientFrame(this.id, { data, isBinary: frame.isBinary });
    else upstream.connection.send(data, frame.isBinary);
  }

  gone(): void {
    this.closing = true;
    clearTimeout(this.joinTimer);
    clearTimeout(this.slowTimer);
    this.handler.closed?.();
    if (this.dropped > 0) {
      this.endpoint.logger.warn(
        { client: this.id, dropped: this.dropped },
        'frames not sent to a closing endpoint client',
      );
    }
    const upstream = this.upstream;
    this.upstream = undefined;
    if (upstream) {
      this.endpoint.upstreams.release(this.id, upstream, true).catch((error: unknown) => {
        this.endpoint.logger.error({ err: error, client: this.id }, 'releasing an endpoint client failed');
      });
    }
  }
}

/** The daemon's local WebSocket listener for drop-in clients. */
export class LocalEndpoint {
  readonly maxBufferedBytes: number;
  readonly upstreams: UpstreamRegistry;
  readonly logger: Logger;
  private readonly clients = new Map<ClientId, EndpointClient>();
  /** Connections closed for an upstream redial and not back yet (see `awaited`). */
  private returning = 0;
  private returnTimer: NodeJS.Timeout | undefined;
  private readonly wss: WebSocketServer;
  private readonly token: Buffer | undefined;
  private nextId = FIRST_ENDPOINT_CLIENT_ID;
  /** Connections closed for overrunning `maxBufferedBytes`, since the endpoint started. */
  slowClientCloses = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: LocalEndpointOptions,
    private readonly host: LocalEndpointHost,
  ) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.upstreams = host.upstreams;
    this.logger = host.logger.child({ endpoint: true });
    this.token = options.accessToken ? Buffer.from(options.accessToken) : undefined;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageBytes ?? 1024 * 1024,
      // Not negotiated: on loopback compression only costs CPU, and clients that offer it carry on without.
      perMessageDeflate: false,
    });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Whatever a request holds, it fails alone: an exception here would be uncaught and take the daemon down.
      try {
        this.upgrade(request, socket, head);
      } catch (error) {
        this.logger.warn(
          { remote: request.socket.remoteAddress, err: error },
          'endpoint upgrade failed on a malformed request',
        );
        this.refuse(socket, 400, 'Bad Request');
      }
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const authorized = !this.token || this.bearsToken(request);
      if (host.httpRequest?.(request, response, authorized)) return;
      response.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade expected\n');
    });
  }

  /** Validates the options and binds; rejects on a bad option or a port in use. */
  static async start(options: LocalEndpointOptions, host: LocalEndpointHost): Promise<LocalEndpoint> {
    const bindHost = options.host ?? '127.0.0.1';
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
      throw new InvalidArgumentError(`the endpoint port must be 0-65535; got ${String(options.port)}`);
    }
    if (!isLoopback(bindHost) && !options.accessToken) {
      throw new InvalidArgumentError(
        `the endpoint binds ${bindHost}, which other machines can reach: set an access token (--listen-token or WSPROXY_LISTEN_TOKEN), or bind 127.0.0.1`,
      );
    }
    if (options.tls && !(options.tls.certFile && options.tls.keyFile)) {
      throw new InvalidArgumentError('TLS needs both a certificate (--tls-cert) and a key (--tls-key)');
    }
    const server = options.tls
      ? createHttpsServer({
          cert: readFileSync(options.tls.certFile),
          key: readFileSync(options.tls.keyFile),
        })
      : createHttpServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, bindHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const endpoint = new LocalEndpoint(server, options, host);
    endpoint.logger.info({ url: endpoint.url, token: Boolean(options.accessToken) }, 'endpoint listening');
    return endpoint;
  }

  /** `ws://host:port` (or `wss://`) the endpoint serves. */
  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${this.options.tls ? 'wss' : 'ws'}://${host}:${address.port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Open connections. */
  get size(): number {
    return this.clients.size;
  }

  /**
   * Open connections, plus those we closed for an upstream redial that have not come back yet (for
   * `REDIAL_RETURN_MS`): what keeps the daemon from lingering out mid-recovery.
   */
  get awaited(): number {
    return this.clients.size + this.returning;
  }

  /** The endpoint's part of `wsproxy status`: where it listens and every connection, without tokens or keys. */
  status(): EndpointStatus {
    return {
      url: this.url,
      connections: [...this.clients.values()].map((client) => client.status()),
      slowClientCloses: this.slowClientCloses,
    };
  }

  /** Frames an upstream's adapter addressed to clients: the endpoint's own are sent on their sockets. */
  deliver(recipients: Iterable<ClientId>, data: Uint8Array, isBinary: boolean): void {
    for (const id of recipients) {
      if (id < FIRST_ENDPOINT_CLIENT_ID) continue;
      const client = this.clients.get(id);
      if (!client) continue;
      try {
        client.deliver({ data, isBinary });
      } catch (error) {
        // A frame its protocol cannot convert (e.g. a malformed one) costs that connection only, and it hears so.
        this.logger.error(
          { err: error, client: id },
          'endpoint frame could not be delivered: closing the connection',
        );
        client.close(1011, 'a frame could not be delivered');
      }
    }
  }

  /**
   * The upstream dropped and is being redialled. An endpoint client has no event channel to hear that it is missing
   * data, so it is told the way the vendor would tell it: its connection closes (1012, service restart), and the SDK
   * reconnects and resubscribes by itself, knowing it may have missed messages. Nothing is lost silently.
   */
  upstreamDropped(upstream: SharedUpstream): void {
    let closed = 0;
    for (const client of this.clients.values()) {
      if (client.upstream !== upstream || client.closing) continue;
      client.close(1012, 'upstream reconnecting');
      closed += 1;
    }
    if (closed > 0) this.expectReturn(closed);
  }

  /** `count` connections we closed will be back: they are not "nobody left" until REDIAL_RETURN_MS has passed. */
  private expectReturn(count: number): void {
    this.returning += count;
    clearTimeout(this.returnTimer);
    this.returnTimer = setTimeout(() => {
      this.returning = 0;
      this.host.activity();
    }, REDIAL_RETURN_MS);
    this.returnTimer.unref();
  }

  /** The upstream is gone for good: its endpoint members are closed (the SDKs reconnect and authenticate anew). */
  upstreamClosed(upstream: SharedUpstream): void {
    for (const client of this.clients.values()) {
      if (client.upstream === upstream) client.close(1011, 'upstream closed');
    }
  }

  /** Closes every connection (1001) and the listener; a client that does not answer the close is cut after 1 s. */
  async close(): Promise<void> {
    clearTimeout(this.returnTimer);
    this.returning = 0;
    for (const client of this.clients.values()) client.close(1001, 'wsproxy daemon shutting down');
    const closed = new Promise<void>((resolve) => {
      this.wss.close();
      this.server.close(() => resolve());
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1_000)))]);
    clearTimeout(timer);
    for (const ws of this.wss.clients) ws.terminate();
    this.server.closeAllConnections?.();
  }

  private refuse(socket: Duplex, status: number, message: string): void {
    socket.end(
      `HTTP/1.1 ${status} ${message.replace(/[\r\n]/g, ' ')}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  }

  /** The token as a Bearer header or `?token=` (plain HTTP requests have no path segment to spare for it). */
  private bearsToken(request: IncomingMessage): boolean {
    if (!this.token) return false;
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    let query: string | null = null;
    try {
      query = new URL(request.url ?? '/', 'http://endpoint').searchParams.get('token');
    } catch {}
    return tokenMatches(this.token, bearer) || tokenMatches(this.token, query);
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', 'http://endpoint');
    let path = url.pathname;
    if (this.token) {
      const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      const first = /^\/([^/]+)(\/.*)?$/.exec(path);
      if (first && tokenMatches(this.token, decodePathSegment(first[1]!))) path = first[2] ?? '/';
      else if (
        !tokenMatches(this.token, bearer) &&
        !tokenMatches(this.token, url.searchParams.get('token'))
      ) {
        this.logger.warn(
          { remote: request.socket.remoteAddress },
          'endpoint upgrade without the access token',
        );
        this.refuse(socket, 401, 'Unauthorized');
        return;
      }
    }
    const accepted = this.host.protocol.accept({ path, headers: request.headers });
    if (!('handler' in accepted)) {
      this.refuse(socket, accepted.status, accepted.message);
      return;
    }
    const peer = peerOf(request, path);
    this.wss.handleUpgrade(request, socket, head, (ws) => this.connected(ws, accepted.handler, peer));
  }

  private connected(ws: WebSocket, handler: EndpointConnectionHandler, peer: EndpointPeer): void {
    const client = new EndpointClient(this.nextId++, ws, handler, this, peer);
    this.clients.set(client.id, client);
    if (this.returning > 0) this.returning -= 1;
    this.host.activity();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      client.messagesIn++;
      try {
        handler.message({ data, isBinary });
      } catch (error) {
        // A protocol bug on one connection must not take the daemon down.
        this.logger.error({ err: error, client: client.id }, 'endpoint message handler failed');
      }
    });
    ws.on('error', (error) =>
      this.logger.warn({ client: client.id, err: error.message }, 'endpoint socket error'),
    );
    ws.on('close', () => {
      this.clients.delete(client.id);
      client.gone();
      this.host.activity();
    });
    client.start(this.options.joinTimeoutMs ?? 10_000);
  }
}

/** A percent-decoded path segment, or undefined for a malformed escape (e.g. `%E0%A4%A`): no token then. */
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
