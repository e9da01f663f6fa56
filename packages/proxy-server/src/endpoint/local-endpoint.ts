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
import type { AddressInfo, Socket } from 'node:net';
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
  /** Bytes a connection may have queued unsent before it counts as too slow and is closed. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /**
   * TCP connections at once, upgraded or not (each holds a descriptor the daemon's own clients need too). Default
   * 1024, or half the process's open-file limit when that is lower. More are answered `503` and closed.
   */
  readonly maxConnections?: number;
  /** TCP connections at once from one remote address. Default: `maxConnections`. More are answered `503`. */
  readonly maxConnectionsPerRemote?: number;
  /** Longest request path (with query) in an upgrade, in bytes. Default 1024; longer is answered `414`. */
  readonly maxPathBytes?: number;
  /** An upgrade request must have arrived whole within this (slow-header clients hold descriptors). Default 5000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** Largest incoming message (after reassembling fragments); bigger closes the connection with 1009. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** A connection that has not joined an upstream in this time is closed (Alpaca: 10 s auth timeout). */
  readonly joinTimeoutMs?: number;
}

/** Endpoint client ids start here, far above the shared-memory clients' ids, so the two never collide. */
export const FIRST_ENDPOINT_CLIENT_ID = 0x4000_0000;

/** How long a connection we close may take to read its backlog and the close frame before it is cut. */
const SLOW_CLOSE_GRACE_MS = 5_000;
const DEFAULT_MAX_CONNECTIONS = 1024;
const DEFAULT_MAX_PATH_BYTES = 1024;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;

/** The soft open-file limit of this process (Linux), or undefined where it cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line ? Number(line[1]) : undefined;
  } catch {
    return undefined;
  }
}

function defaultMaxConnections(): number {
  const files = openFileLimit();
  return files
    ? Math.max(1, Math.min(DEFAULT_MAX_CONNECTIONS, Math.floor(files / 2)))
    : DEFAULT_MAX_CONNECTIONS;
}

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

  /** A frame already converted for this connection's `outgoingKey` (shared with its peers of the same format). */
  sendConverted(frame: EndpointFrame): void {
    this.send(frame);
  }

  private tooSlow(): void {
    this.endpoint.logger.warn(
      { client: this.id, buffered: this.socket.bufferedAmount },
      'endpoint client too slow: closing it',
    );
    this.slow = true;
    this.endpoint.slowClientCloses++;
    this.close(1008, 'slow client', this.handler.tooSlow());
  }

  close(code: number, reason: string, last?: EndpointFrame): void {
    if (this.closing) return;
    if (last) this.socket.send(last.data, { binary: last.isBinary });
    this.closing = true;
    this.socket.close(code, reason);
    // A peer that does not read (or vanished without a FIN we could see) will not answer the close frame: its
    // descriptor is freed after this grace, not after `ws`'s 30 s close timeout.
    this.slowTimer = setTimeout(() => this.socket.terminate(), SLOW_CLOSE_GRACE_MS);
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
  private readonly maxConnections: number;
  private readonly maxConnectionsPerRemote: number;
  private readonly maxPathBytes: number;
  /** Open TCP connections, in all and per remote address (upgraded or still in their HTTP request). */
  private sockets = 0;
  private readonly perRemote = new Map<string, number>();
  private readonly handshakeTimeoutMs: number;
  /**
   * Connections that have not upgraded yet, each with its deadline. A client dribbling its request headers holds a
   * descriptor: it gets `handshakeTimeoutMs`, not Node's minute (whose check runs on a 30 s interval anyway).
   */
  private readonly handshakes = new Map<Duplex, NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    private readonly options: LocalEndpointOptions,
    private readonly host: LocalEndpointHost,
  ) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.maxConnections = options.maxConnections ?? defaultMaxConnections();
    this.maxConnectionsPerRemote = options.maxConnectionsPerRemote ?? this.maxConnections;
    this.maxPathBytes = options.maxPathBytes ?? DEFAULT_MAX_PATH_BYTES;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    server.on('connection', (socket: Socket) => this.admitSocket(socket));
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

  /**
   * Counts a new TCP connection against `maxConnections` and `maxConnectionsPerRemote`; over either, it is answered
   * `503` naming the bound and closed, before a byte of its request is read.
   */
  private admitSocket(socket: Socket): void {
    const remote = socket.remoteAddress ?? '?';
    const fromRemote = this.perRemote.get(remote) ?? 0;
    const over =
      this.sockets >= this.maxConnections
        ? `maxConnections ${this.maxConnections}`
        : fromRemote >= this.maxConnectionsPerRemote
          ? `maxConnectionsPerRemote ${this.maxConnectionsPerRemote}`
          : undefined;
    if (over) {
      this.refusals++;
      if (this.refusals === 1 || this.refusals % 1000 === 0) {
        this.logger.warn({ remote, refusals: this.refusals, limit: over }, 'endpoint connection refused');
      }
      socket.on('error', () => socket.destroy());
      this.refuse(socket, 503, `Too Many Connections (${over})`);
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    this.sockets++;
    this.perRemote.set(remote, fromRemote + 1);
    this.handshakes.set(
      socket,
      setTimeout(() => {
        this.handshakes.delete(socket);
        socket.destroy();
      }, this.handshakeTimeoutMs),
    );
    socket.once('close', () => {
      clearTimeout(this.handshakes.get(socket));
      this.handshakes.delete(socket);
      this.sockets--;
      const left = (this.perRemote.get(remote) ?? 1) - 1;
      if (left > 0) this.perRemote.set(remote, left);
      else this.perRemote.delete(remote);
    });
  }

  /** Connections refused for a connection bound since the endpoint started (logged, not per refusal). */
  private refusals = 0;

  /** Validates the options and binds; rejects on a bad option or a port in use. */
  static async start(options: LocalEndpointOptions, host: LocalEndpointHost): Promise<LocalEndpoint> {
    const bindHost = options.host ?? '127.0.0.1';
    for (const name of [
      'maxConnections',
      'maxConnectionsPerRemote',
      'maxPathBytes',
      'handshakeTimeoutMs',
    ] as const) {
      const value = options[name];
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new InvalidArgumentError(
          `the endpoint's ${name} must be a positive integer; got ${String(value)}`,
        );
      }
    }
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

  /**
   * Frames an upstream's adapter addressed to clients: the endpoint's own are sent on their sockets. A frame is
   * converted once per `outgoingKey` (e.g. once for every JSON client, once for every msgpack one), not once per
   * connection: 2,000 JSON clients used to cost 2,000 transcodings of every frame.
   */
  deliver(recipients: Iterable<ClientId>, data: Uint8Array, isBinary: boolean): void {
    const frame = { data, isBinary };
    let converted: Map<string, EndpointFrame> | undefined;
    for (const id of recipients) {
      if (id < FIRST_ENDPOINT_CLIENT_ID) continue;
      const client = this.clients.get(id);
      if (!client) continue;
      try {
        const key = client.handler.outgoingKey;
        if (key === undefined) {
          client.deliver(frame);
          continue;
        }
        converted ??= new Map();
        let out = converted.get(key);
        if (!out) {
          out = client.handler.outgoing(frame);
          converted.set(key, out);
        }
        client.sendConverted(out);
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
    // It sent a whole upgrade request in time: from now on the join timeout and the protocol watch it.
    clearTimeout(this.handshakes.get(socket));
    this.handshakes.delete(socket);
    const rawPath = request.url ?? '/';
    if (Buffer.byteLength(rawPath) > this.maxPathBytes) {
      // Refused before it is parsed or stored: a path is kept per connection and shown by `wsproxy status`.
      this.refuse(socket, 414, `URI Too Long (maxPathBytes ${this.maxPathBytes})`);
      return;
    }
    const url = new URL(rawPath, 'http://endpoint');
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
