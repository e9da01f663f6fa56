/**
 * What every session (market data or account) shares: the socket, the records, the fault switches, the auth
 * timer. Protocol specifics live in market-data-session.ts and account-session.ts.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Encoding } from './codec.js';
import type { Endpoint } from './endpoints.js';
import type { ResolvedOptions } from './options.js';
import { MessageRecord } from './record.js';
import type { SubscriptionMap } from './subscriptions.js';

export type AuthOutcome = 'ok' | 402 | 406 | 409 | 411;

/** The server side a session talks to. */
export interface SessionHost {
  readonly options: ResolvedOptions;
  /** Checks credentials, plan and connection limit; on 'ok' the session holds a connection slot. */
  authenticate(session: BaseSession, key: string, secret: string, scope: 'data' | 'trading'): AuthOutcome;
  /** The session's subscriptions or listening streams changed: the feed may need to start. */
  demandChanged(session: BaseSession): void;
  /** Something inspectable happened (waiters re-check). */
  changed(session: BaseSession): void;
  closed(session: BaseSession, abrupt: boolean): void;
}

/** The inspection and fault-injection view of one connection, as tests see it. */
export interface MockSession {
  readonly id: number;
  /** Endpoint path without the leading slash: `v2/iex`, `v1beta3/crypto/us`, `stream`, ... */
  readonly endpoint: string;
  readonly kind: 'market-data' | 'account';
  readonly encoding: Encoding;
  /** The key (or `oauth:<token>`) it authenticated with; undefined before. */
  readonly key: string | undefined;
  readonly authenticated: boolean;
  readonly closed: boolean;
  /** True while stalled by `stall()`. */
  readonly stalled: boolean;
  /** Every message the client sent to the mock, decoded (bounded by recordLimit). */
  readonly received: readonly unknown[];
  /** Every message the mock sent the client, flattened from frames (bounded by recordLimit). */
  readonly sent: readonly unknown[];
  /** Counts, including messages beyond the record limit. */
  readonly stats: SessionStats;
  /** The current subscription set as the ack would list it (account: `{ streams: [...] }`). */
  subscriptions(): SubscriptionMap;
  /** Only the data messages sent (no success/error/subscription control messages). */
  sentData(): unknown[];
  /** Sends messages as-is (one frame; market data wraps them in an array). */
  push(messages: readonly unknown[]): void;
  /** Destroys the TCP socket without a close frame, like a network drop. */
  drop(): void;
  /** Stops reading (no pongs) and withholds every frame until `resume()`. */
  stall(): void;
  resume(): void;
  /** Sends error 407 and closes, as Alpaca does to a client that cannot keep up. */
  slowClient(): void;
  /** Closes cleanly with a close frame. */
  close(code?: number, reason?: string): void;
}

export interface SessionStats {
  framesSent: number;
  messagesSent: number;
  messagesReceived: number;
  /** Messages not sent because the session was stalled. */
  withheld: number;
  /** Messages past the record limit (sent + received) that were counted but not kept. */
  unrecorded: number;
}

export abstract class BaseSession implements MockSession {
  abstract readonly kind: 'market-data' | 'account';
  key: string | undefined = undefined;
  authenticated = false;
  closed = false;
  stalled = false;
  /** Set when the mock destroyed the socket itself, so the close counts as abrupt. */
  protected dropped = false;
  protected readonly sentRecord: MessageRecord;
  protected readonly receivedRecord: MessageRecord;
  protected framesSent = 0;
  protected withheld = 0;
  private authTimer: NodeJS.Timeout | null = null;
  private graceTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly id: number,
    readonly endpointInfo: Endpoint,
    readonly encoding: Encoding,
    protected readonly ws: WebSocket,
    protected readonly socket: Socket,
    protected readonly host: SessionHost,
  ) {
    this.sentRecord = new MessageRecord(host.options.recordLimit);
    this.receivedRecord = new MessageRecord(host.options.recordLimit);
    ws.on('message', (data, isBinary) => {
      if (this.closed) return;
      try {
        this.onFrame(data as Buffer | Buffer[], isBinary);
      } catch {
        this.internalError();
      }
      this.host.changed(this);
    });
    ws.on('close', (code) => this.onClose(code));
    ws.on('error', () => {
      // A socket error is followed by 'close'; nothing else to do, but an unhandled 'error' would crash the mock.
    });
  }

  get endpoint(): string {
    return this.endpointInfo.path;
  }
  get received(): readonly unknown[] {
    return this.receivedRecord.messages;
  }
  get sent(): readonly unknown[] {
    return this.sentRecord.messages;
  }
  get stats(): SessionStats {
    return {
      framesSent: this.framesSent,
      messagesSent: this.sentRecord.total,
      messagesReceived: this.receivedRecord.total,
      withheld: this.withheld,
      unrecorded: this.sentRecord.unrecorded + this.receivedRecord.unrecorded,
    };
  }

  abstract subscriptions(): SubscriptionMap;
  abstract sentData(): unknown[];
  abstract push(messages: readonly unknown[]): void;
  protected abstract onFrame(data: Buffer | Buffer[], isBinary: boolean): void;
  protected abstract internalError(): void;
  /** Whether the session currently wants any data (drives the feed). */
  abstract hasDemand(): boolean;

  protected startAuthTimer(onTimeout: () => void): void {
    this.authTimer = setTimeout(() => {
      this.authTimer = null;
      if (!this.authenticated && !this.closed) onTimeout();
    }, this.host.options.authTimeoutMs);
  }

  protected stopAuthTimer(): void {
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = null;
  }

  /** Writes one frame unless stalled; a client whose backlog is too large gets 407 and is closed. */
  protected writeFrame(frame: string | Buffer, messageCount: number, binary: boolean): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    if (this.stalled) {
      this.withheld += messageCount;
      return false;
    }
    if (this.ws.bufferedAmount > this.host.options.slowClientBytes) {
      this.withheld += messageCount;
      this.slowClient();
      return false;
    }
    this.ws.send(frame, { binary });
    this.framesSent += 1;
    return true;
  }

  drop(): void {
    if (this.closed) return;
    this.dropped = true;
    this.socket.destroy();
  }

  stall(): void {
    if (this.closed || this.stalled) return;
    this.stalled = true;
    // Not reading means the client's pings go unanswered: its liveness check is what should notice.
    this.socket.pause();
    this.host.changed(this);
  }

  resume(): void {
    if (!this.stalled) return;
    this.stalled = false;
    if (!this.closed) this.socket.resume();
    this.host.changed(this);
  }

  abstract slowClient(): void;

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.ws.close(code, reason);
  }

  /**
   * Closes with a close frame, but a client that does not read (the slow client) never answers it: cut the
   * socket after a short grace instead of ws's 30 s default.
   */
  protected closeWithin(code: number, reason: string, graceMs = 1000): void {
    if (this.closed) return;
    this.ws.close(code, reason);
    if (!this.graceTimer) this.graceTimer = setTimeout(() => this.ws.terminate(), graceMs);
  }

  /** Hard stop used by the mock's own close/restart. */
  terminate(): void {
    if (this.closed) return;
    this.ws.terminate();
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.stalled = false;
    this.stopAuthTimer();
    if (this.graceTimer) clearTimeout(this.graceTimer);
    // 1006: no close frame — the client vanished (or we destroyed the socket): Alpaca keeps such sessions alive.
    this.host.closed(this, this.dropped || code === 1006);
    this.host.changed(this);
  }
}
