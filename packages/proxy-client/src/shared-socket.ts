import { EventEmitter } from 'node:events';
import { ClosedError, type WsproxyClientError } from './errors.js';

/** One whole upstream WebSocket message: text stays text, binary stays binary. */
export type SocketMessage =
  | { readonly binary: false; readonly data: string }
  | { readonly binary: true; readonly data: Buffer };

/** One piece of a message as it crossed the ring (for the callback facade's `remaining` argument). */
export interface SocketFragment {
  readonly data: Buffer;
  readonly binary: boolean;
  /** Bytes of the message still to come; 0 in the last (or only) piece. */
  readonly remaining: number;
}

export type ReconnectCause = 'upstream' | 'daemon';

export interface ReconnectingInfo {
  readonly cause: ReconnectCause;
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
}

export interface ReconnectedInfo {
  readonly cause: ReconnectCause;
  readonly attempt: number;
  /** How long data could not flow: `lostUntil - lostFrom`. */
  readonly downtimeMs: number;
  /**
   * The window in which upstream messages were NOT delivered to this socket, as `Date.now()` values: from when the
   * daemon (or the upstream) was lost to when data flowed again. Whatever the upstream sent meanwhile is gone for
   * good (it is not counted in any `gap`): re-fetch that window from the vendor's history if you need it.
   */
  readonly lostFrom: number;
  readonly lostUntil: number;
  /**
   * `cause: 'daemon'` only: how this socket's acknowledged subscriptions were restored on the new daemon. Null when
   * the socket held none; otherwise the adapter's answer to the restore (`reply`, e.g. Alpaca's ack or error) and the
   * resulting `state` — null when the new daemon keeps no state (protocol < 3), so nothing was restored.
   */
  readonly restored?: RestoredSubscriptions | null;
}

export interface RestoredSubscriptions {
  readonly reply: Buffer;
  readonly state: Buffer | null;
}

/**
 * Data lost between two messages. Sum `lostMessages` over gap events for the messages lost: nothing is counted twice.
 * A lap (this process fell a whole ring behind) is reported at once with `lostRecords` and `pending: true`, before
 * any data after it; the messages it cost follow in a second event (`pending: false`) once the daemon has said how
 * many it addressed to this process (a control round-trip later).
 */
export interface GapInfo {
  /** Messages addressed to this process that it lost (for a lap: to all its sockets on the daemon). */
  readonly lostMessages: number;
  /** Bytes of those messages, when known (0 when not). */
  readonly lostBytes: number;
  /**
   * Ring records skipped by a lap (0 for other losses). They are everyone's records, not only this process's, and a
   * large message spans many: a measure of the lap, not of messages.
   */
  readonly lostRecords: number;
  /** True for the first event of a lap: its `lostMessages` (0 here) follow in a later gap event. */
  readonly pending: boolean;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export interface SharedSocketEvents {
  message: [message: SocketMessage];
  fragment: [fragment: SocketFragment];
  close: [info: CloseInfo];
  error: [error: WsproxyClientError];
  reconnecting: [info: ReconnectingInfo];
  reconnected: [info: ReconnectedInfo];
  gap: [info: GapInfo];
}

export type SharedSocketState = 'open' | 'reconnecting' | 'closed';

export interface SubscribeAnswer {
  /** Someone already had it: nothing new went upstream. */
  readonly alreadySubscribed: boolean;
  /** The adapter's reply (e.g. Alpaca's ack listing this client's own set); empty for passthrough. */
  readonly reply: Buffer;
  /** This client's acknowledged subscription state after the request (adapter-defined), or null if none is kept. */
  readonly state: Buffer | null;
}

export interface UnsubscribeAnswer {
  /** Other clients still hold it, so it stays subscribed upstream. */
  readonly stillSubscribed: boolean;
  readonly reply: Buffer;
  /** As in `SubscribeAnswer`. */
  readonly state: Buffer | null;
}

/** What a socket needs from its client; implemented by `WsproxyClient`. */
export interface SocketOwner {
  sendOn(socket: SharedSocket, data: Uint8Array, binary: boolean): Promise<void>;
  subscribeOn(socket: SharedSocket, params: Uint8Array): Promise<SubscribeAnswer>;
  unsubscribeOn(socket: SharedSocket, params: Uint8Array): Promise<UnsubscribeAnswer>;
  closeSocket(socket: SharedSocket): Promise<void>;
}

/** How a socket was opened: kept so the client can reopen it after a daemon restart. */
export interface OpenSpec {
  readonly url: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly credentials: { readonly key: string; readonly secret: string } | null;
  readonly adapter: string;
  /** Where the daemon may load the adapter from; `''` for none. Kept so a respawned daemon can load it too. */
  readonly adapterModule: string;
}

function toBytes(data: string | Uint8Array): { bytes: Uint8Array; binary: boolean } {
  return typeof data === 'string'
    ? { bytes: Buffer.from(data, 'utf8'), binary: false }
    : { bytes: data, binary: true };
}

/**
 * One process's handle on a shared upstream WebSocket. Every frame the upstream sends arrives here (and in every
 * other process that opened the same URL with the same credentials); what you `send()` goes upstream.
 */
export class SharedSocket extends EventEmitter<SharedSocketEvents> implements AsyncIterable<SocketMessage> {
  /** Stable for the life of this object, unique within its client. */
  readonly id: number;
  readonly url: string;
  /** True if this open created the upstream connection; false if it joined one that existed. */
  readonly isNew: boolean;
  /** The daemon's id for the upstream connection: shared by every process on it; changes after a daemon restart. */
  connectionId: number;
  /** @internal */
  readonly spec: OpenSpec;
  private acknowledged: Buffer | null = null;
  private currentState: SharedSocketState = 'open';
  private readonly queue: SocketMessage[] = [];
  private readonly waiters: Array<(result: IteratorResult<SocketMessage>) => void> = [];
  private iterating = 0;

  constructor(
    private readonly owner: SocketOwner,
    id: number,
    connectionId: number,
    isNew: boolean,
    spec: OpenSpec,
  ) {
    super();
    this.id = id;
    this.connectionId = connectionId;
    this.isNew = isNew;
    this.url = spec.url;
    this.spec = spec;
  }

  get state(): SharedSocketState {
    return this.currentState;
  }

  /** Sends one message upstream: a string as a text frame, bytes as a binary frame. */
  send(data: string | Uint8Array): Promise<void> {
    if (this.currentState === 'closed') return Promise.reject(new ClosedError(`socket ${this.id}`));
    const { bytes, binary } = toBytes(data);
    return this.owner.sendOn(this, bytes, binary);
  }

  /**
   * This socket's ACKNOWLEDGED subscriptions as the daemon's adapter last stated them (adapter-defined bytes: Alpaca
   * and passthrough use JSON), or null when it holds none or its adapter keeps no state. It is the only thing
   * restored after a daemon restart — a state, never a replay of requests — and a view derived from it (like
   * `AlpacaStream.subscriptions`) cannot disagree with the daemon's.
   */
  get subscriptionState(): Buffer | null {
    return this.acknowledged;
  }

  /** Adapter-level subscription (`params` in the adapter's own format). What is acknowledged survives a daemon restart. */
  async subscribe(params: string | Uint8Array): Promise<SubscribeAnswer> {
    if (this.currentState === 'closed') throw new ClosedError(`socket ${this.id}`);
    const { bytes } = toBytes(params);
    const answer = await this.owner.subscribeOn(this, bytes);
    this.adoptState(answer.state);
    return answer;
  }

  async unsubscribe(params: string | Uint8Array): Promise<UnsubscribeAnswer> {
    if (this.currentState === 'closed') throw new ClosedError(`socket ${this.id}`);
    const { bytes } = toBytes(params);
    const answer = await this.owner.unsubscribeOn(this, bytes);
    this.adoptState(answer.state);
    return answer;
  }

  /** @internal the daemon's latest word on this socket's acknowledged set (answers arrive in the daemon's order). */
  adoptState(state: Buffer | null): void {
    if (state) this.acknowledged = state;
  }

  /** Leaves the shared connection; the upstream closes when its last user leaves. */
  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    await this.owner.closeSocket(this);
  }

  /** `for await (const message of socket)`: every message from now on, until the socket closes. */
  [Symbol.asyncIterator](): AsyncIterator<SocketMessage> {
    this.iterating += 1;
    let done = false;
    const finish = (): IteratorResult<SocketMessage> => {
      if (!done) {
        done = true;
        this.iterating -= 1;
      }
      return { done: true, value: undefined };
    };
    return {
      next: () => {
        const queued = this.queue.shift();
        if (queued) return Promise.resolve({ done: false, value: queued });
        if (this.currentState === 'closed' || done) return Promise.resolve(finish());
        return new Promise((resolve) => this.waiters.push(resolve));
      },
      return: () => Promise.resolve(finish()),
    };
  }

  /** @internal */
  deliver(message: SocketMessage): void {
    if (this.currentState === 'closed') return;
    this.emit('message', message);
    if (this.iterating === 0) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter({ done: false, value: message });
    else this.queue.push(message);
  }

  /** @internal */
  deliverFragment(fragment: SocketFragment): void {
    if (this.currentState !== 'closed') this.emit('fragment', fragment);
  }

  /** @internal */
  markReconnecting(info: ReconnectingInfo): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'reconnecting';
    this.emit('reconnecting', info);
  }

  /** @internal */
  markReconnected(info: ReconnectedInfo, connectionId = this.connectionId): void {
    if (this.currentState === 'closed') return;
    this.connectionId = connectionId;
    this.currentState = 'open';
    this.emit('reconnected', info);
  }

  /** @internal errors go to 'error' listeners; without any they are not thrown (a strategy must not crash). */
  fail(error: WsproxyClientError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** @internal */
  markClosed(info: CloseInfo): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    for (const waiter of this.waiters.splice(0)) waiter({ done: true, value: undefined });
    this.emit('close', info);
  }
}
