import { EventEmitter } from 'node:events';
import { DaemonErrorCode, MAX_PAYLOAD_BYTES } from '@wsproxy/protocol';
import WebSocket, { type ClientOptions, type RawData } from 'ws';
import { InvalidUrlError, upstreamError } from '../errors.js';
import {
  backoffDelay,
  type ReconnectOptions,
  type ResolvedReconnectOptions,
  resolveReconnectOptions,
} from './backoff.js';
import { handshakeRefusal, type UpstreamFailure } from './upstream-failure.js';

/** TLS settings handed to `ws` (and so to `tls.connect`) as they are. */
export interface UpstreamTlsOptions {
  readonly ca?: string | Buffer | Array<string | Buffer>;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

export interface UpstreamConnectionOptions {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly tls?: UpstreamTlsOptions;
  readonly perMessageDeflate?: boolean;
  /** Ping the upstream this often. Default 10 s; 0 disables keepalive. */
  readonly pingIntervalMs?: number;
  /** Declare the upstream dead if no pong arrives this long after a ping. Default 5 s. */
  readonly pongTimeoutMs?: number;
  /** Limit for the opening handshake. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
  readonly reconnect?: ReconnectOptions;
  /** The jitter's source of randomness (0 <= x < 1). Default `Math.random`; tests pass their own. */
  readonly random?: () => number;
}

export type UpstreamState =
  | { readonly kind: 'connecting' }
  /** The socket is open but the session is not usable yet (e.g. Alpaca is checking the credentials). */
  | { readonly kind: 'authenticating'; readonly since: number }
  | { readonly kind: 'open'; readonly since: number }
  | {
      readonly kind: 'reconnecting';
      readonly attempt: number;
      readonly delayMs: number;
      readonly reason: string;
      /** When the next dial is due (ms since the epoch). */
      readonly nextRetryAt: number;
    }
  | { readonly kind: 'closed'; readonly code: number; readonly reason: string };

export interface ReconnectingInfo {
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
  readonly nextRetryAt: number;
  /** Why the last dial or session failed, typed. */
  readonly failure: UpstreamFailure;
}

export interface UpstreamConnectionEvents {
  /** The socket is open: the first time, and again after each successful reconnect. */
  open: [{ readonly reconnected: boolean }];
  message: [data: Buffer, isBinary: boolean];
  /** The socket dropped (or its session was refused) and a retry is scheduled. */
  reconnecting: [ReconnectingInfo];
  /** Final: no more retries (closed by us, or retries exhausted). */
  closed: [{ readonly code: number; readonly reason: string }];
}

export function validateUpstreamUrl(url: unknown): URL {
  if (typeof url !== 'string' || url.length === 0) throw new InvalidUrlError(String(url), 'not a string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidUrlError(url, 'not a URL');
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new InvalidUrlError(url, `scheme must be ws: or wss:, not ${parsed.protocol}`);
  }
  if (parsed.hash) throw new InvalidUrlError(url, 'fragments are not allowed in WebSocket URLs');
  return parsed;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * One upstream WebSocket that stays up: keepalive by ping/pong, reconnect with backoff after a drop, and after a
 * session the vendor refused (`refuse`: e.g. Alpaca's 406 while it still holds our dead session). The very first
 * connect is not retried: whoever opened it wants to hear at once that the host is unreachable.
 */
export class UpstreamConnection extends EventEmitter<UpstreamConnectionEvents> {
  readonly url: string;
  private readonly options: UpstreamConnectionOptions;
  private readonly reconnectOptions: ResolvedReconnectOptions;
  private socket: WebSocket | undefined;
  private currentState: UpstreamState = { kind: 'connecting' };
  private attempt = 0;
  private openedAt = 0;
  private everOpened = false;
  private closing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  /** Set when we end the socket ourselves for a reason the close code cannot say (no pong, session refused). */
  private endingBecause: UpstreamFailure | undefined;
  /** The latest failure, kept for `wsproxy status` until the session is usable again. */
  lastFailure: (UpstreamFailure & { readonly at: number }) | undefined;
  /** Sockets dialled so far: tells a late verdict on an old socket's session from one on the current socket. */
  dials = 0;
  /** Counters for `wsproxy status` and `/metrics`; `lastMessageAt` is 0 before the first frame. */
  readonly stats = { messagesIn: 0, bytesIn: 0, messagesOut: 0, reconnects: 0, lastMessageAt: 0 };

  constructor(options: UpstreamConnectionOptions) {
    super();
    validateUpstreamUrl(options.url);
    this.url = options.url;
    this.options = options;
    this.reconnectOptions = resolveReconnectOptions(options.reconnect);
  }

  get state(): UpstreamState {
    return this.currentState;
  }

  /** Resolves once the first connection is open; rejects with `UpstreamUnreachableError` otherwise. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onOpen = () => {
        this.off('closed', onClosed);
        resolve();
      };
      const onClosed = (event: { code: number; reason: string }) => {
        this.off('open', onOpen);
        reject(
          upstreamError(
            this.url,
            this.lastFailure ?? { code: DaemonErrorCode.UPSTREAM_UNREACHABLE, message: event.reason },
          ),
        );
      };
      this.once('open', onOpen);
      this.once('closed', onClosed);
      this.dial();
    });
  }

  /** The adapter says the session is usable (e.g. Alpaca authenticated): `open`, and the backoff may reset later. */
  markReady(dial = this.dials): void {
    if (this.currentState.kind !== 'authenticating' || dial !== this.dials) return;
    this.openedAt = Date.now();
    this.currentState = { kind: 'open', since: this.openedAt };
    this.lastFailure = undefined;
  }

  /**
   * The vendor refused the session this socket carries (bad keys, connection limit, auth timeout): end it and dial
   * again with backoff. Alpaca keeps a dropped session for ~90 s and answers 406 meanwhile, so giving up on the first
   * refusal would leave every client waiting forever.
   */
  refuse(failure: UpstreamFailure, dial = this.dials): void {
    const socket = this.socket;
    if (this.closing || !socket || dial !== this.dials) return;
    this.endingBecause = failure;
    socket.terminate();
  }

  send(data: Uint8Array | string, isBinary: boolean): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(data, { binary: isBinary });
    this.stats.messagesOut += 1;
    return true;
  }

  /** Closes for good: 1000 when the last client left, 1001 when the daemon shuts down. */
  close(code = 1000, reason = ''): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    this.stopKeepalive();
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) {
      this.finish(code, reason || 'closed');
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // A peer that never answers our close frame must not hold the daemon's shutdown hostage.
      const force = setTimeout(() => socket.terminate(), 2_000);
      socket.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(code, reason);
    });
  }

  private dial(): void {
    const { tls, headers, perMessageDeflate, handshakeTimeoutMs } = this.options;
    const wsOptions: ClientOptions = {
      headers: headers ? { ...headers } : undefined,
      perMessageDeflate: perMessageDeflate ?? false,
      handshakeTimeout: handshakeTimeoutMs ?? 10_000,
      // What the ring protocol can carry; a bigger frame closes the socket (1009) instead of reaching clients torn.
      maxPayload: MAX_PAYLOAD_BYTES,
      ...tls,
    };
    const socket = new WebSocket(this.url, wsOptions);
    this.socket = socket;
    this.dials += 1;
    this.endingBecause = undefined;
    // The first cause wins: aborting a refused handshake makes `ws` report a generic error after the real reason.
    let failure: UpstreamFailure | undefined;
    socket.on('open', () => {
      this.currentState = { kind: 'authenticating', since: Date.now() };
      const reconnected = this.everOpened;
      this.everOpened = true;
      if (reconnected) this.stats.reconnects += 1;
      this.startKeepalive(socket);
      this.emit('open', { reconnected });
    });
    socket.on('message', (data, isBinary) => {
      const payload = toBuffer(data);
      this.stats.messagesIn += 1;
      this.stats.bytesIn += payload.byteLength;
      this.stats.lastMessageAt = Date.now();
      // Data arriving is as good a sign of life as a pong: a pong queued behind a burst (megabytes the daemon is
      // still reading) is late without the connection being half-dead.
      this.clearPongWait();
      this.emit('message', payload, isBinary);
    });
    socket.on('pong', () => this.clearPongWait());
    socket.on('unexpected-response', (_request, response) => {
      failure ??= handshakeRefusal(response.statusCode ?? 0, response.headers['retry-after']);
      socket.terminate();
    });
    socket.on('error', (error) => {
      failure ??= {
        code: DaemonErrorCode.UPSTREAM_UNREACHABLE,
        message: error.message || 'connection failed',
      };
    });
    socket.on('close', (code, reasonBuffer) => {
      this.stopKeepalive();
      if (this.socket !== socket) return;
      this.socket = undefined;
      const closeReason = reasonBuffer.length > 0 ? reasonBuffer.toString() : '';
      const cause: UpstreamFailure = this.endingBecause ??
        failure ?? {
          code: DaemonErrorCode.UPSTREAM_CLOSED,
          vendorCode: code,
          message: `the upstream closed the connection (${code}${closeReason ? ` ${closeReason}` : ''})`,
        };
      this.endingBecause = undefined;
      if (this.closing) return this.finish(code, closeReason || cause.message);
      if (!this.everOpened) {
        this.lastFailure = { ...cause, at: Date.now() };
        return this.finish(code === 1005 || code === 1006 ? 1006 : code, cause.message);
      }
      this.scheduleReconnect(cause);
    });
  }

  private scheduleReconnect(failure: UpstreamFailure): void {
    // A session that was usable for a while starts the backoff from scratch; a refused one never was.
    if (this.openedAt > 0 && Date.now() - this.openedAt >= this.reconnectOptions.resetAfterMs)
      this.attempt = 0;
    this.openedAt = 0;
    this.attempt += 1;
    this.lastFailure = { ...failure, at: Date.now() };
    if (this.attempt > this.reconnectOptions.maxAttempts) {
      this.finish(1006, `gave up after ${this.attempt - 1} reconnect attempts: ${failure.message}`);
      return;
    }
    // A 429's Retry-After is a floor under the jittered backoff, never replaced by it.
    const delayMs = Math.max(
      backoffDelay(this.attempt, this.reconnectOptions, this.options.random),
      failure.retryAfterMs ?? 0,
    );
    const nextRetryAt = Date.now() + delayMs;
    const reason = failure.message;
    this.currentState = { kind: 'reconnecting', attempt: this.attempt, delayMs, reason, nextRetryAt };
    this.emit('reconnecting', { attempt: this.attempt, delayMs, reason, nextRetryAt, failure });
    this.retryTimer = setTimeout(() => this.dial(), delayMs);
  }

  private finish(code: number, reason: string): void {
    if (this.currentState.kind === 'closed') return;
    this.currentState = { kind: 'closed', code, reason };
    this.emit('closed', { code, reason });
  }

  private startKeepalive(socket: WebSocket): void {
    const interval = this.options.pingIntervalMs ?? 10_000;
    const timeout = this.options.pongTimeoutMs ?? 5_000;
    if (interval <= 0) return;
    this.pingTimer = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      socket.ping();
      // The wait runs from the first unanswered ping: restarting it on each ping would never let a pong timeout
      // at or above the ping interval fire. A pong clears it (and the next ping starts a new one).
      if (this.pongTimer !== undefined) return;
      // A half-open TCP connection never errors by itself; a missing pong is our only sign.
      this.pongTimer = setTimeout(() => {
        this.pongTimer = undefined;
        this.endingBecause = {
          code: DaemonErrorCode.TIMEOUT,
          message: `no pong within ${timeout} ms: the upstream connection is half-dead`,
        };
        socket.terminate();
      }, timeout);
    }, interval);
  }

  private stopKeepalive(): void {
    clearInterval(this.pingTimer);
    this.clearPongWait();
  }

  private clearPongWait(): void {
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }
}
