// Plays the daemon's part around a real AlpacaSession: one real `ws` upstream connection to the mock, and simulated
// clients whose "sockets" are arrays of the frames the session delivered to them.
import { decodeFrame } from '@wsproxy/alpaca-mock';
import { WebSocket } from 'ws';
import {
  AccountSession,
  AlpacaSession,
  type AlpacaSessionOptions,
  type ClientId,
  type Encoding,
  type SessionEvent,
  type SessionOutput,
} from '../src/index.js';

export const MOCK_CREDENTIALS = { keyId: 'mock-key', secretKey: 'mock-secret' };

const CONTROL = new Set(['success', 'error', 'subscription']);

export class DaemonRole {
  readonly session: AlpacaSession | AccountSession;
  readonly events: SessionEvent[] = [];
  /** Frames delivered per client, decoded. */
  readonly inbox = new Map<ClientId, unknown[][]>();
  /** Data messages the upstream socket received (decoded), in order. */
  readonly upstreamData: unknown[] = [];
  private ws: WebSocket | undefined;
  private readonly url: string;
  private readonly encoding: Encoding;
  private reconnect = true;
  private readyWaiters: (() => void)[] = [];
  connections = 0;

  constructor(url: string, options: Omit<AlpacaSessionOptions, 'credentials'> | { feed: 'account' }) {
    this.url = url;
    this.encoding = options.feed === 'account' ? 'json' : (options.encoding ?? 'msgpack');
    const output: SessionOutput = {
      deliver: (recipients, bytes, isBinary) => {
        const decoded =
          options.feed === 'account'
            ? [JSON.parse(Buffer.from(bytes).toString())]
            : (decodeFrame(Buffer.from(bytes), isBinary ? 'msgpack' : 'json') as unknown[]);
        for (const id of recipients) {
          let list = this.inbox.get(id);
          if (!list) {
            list = [];
            this.inbox.set(id, list);
          }
          list.push(decoded);
        }
      },
      sendUpstream: (bytes, isBinary) => this.ws?.send(bytes, { binary: isBinary }),
      event: (event) => {
        this.events.push(event);
        if (event.type === 'upstream-authenticated') for (const w of this.readyWaiters.splice(0)) w();
      },
    };
    this.session =
      options.feed === 'account'
        ? new AccountSession({ credentials: MOCK_CREDENTIALS }, output)
        : new AlpacaSession({ ...options, credentials: MOCK_CREDENTIALS }, output);
  }

  /** Opens the upstream and resolves once Alpaca (the mock) has authenticated the session. */
  connect(): Promise<void> {
    const ready = new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    const ws = new WebSocket(this.url, {
      headers: { 'Content-Type': this.encoding === 'msgpack' ? 'application/msgpack' : 'application/json' },
    });
    this.ws = ws;
    this.connections++;
    ws.on('open', () => this.session.onUpstreamOpen());
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.session instanceof AlpacaSession) {
        const frame = decodeFrame(data, isBinary ? 'msgpack' : 'json') as { T: string }[];
        for (const m of frame) if (!CONTROL.has(m.T)) this.upstreamData.push(m);
      }
      this.session.onUpstreamMessage(data, isBinary);
    });
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.session.onUpstreamClosed();
      // The daemon reconnects after a drop (the mock keeps no half-dead slot unless told to).
      if (this.reconnect) void this.connect();
    });
    ws.on('error', () => {});
    return ready;
  }

  attach(id: ClientId): void {
    this.inbox.set(id, []);
    this.session.onClientAttached(id, { greet: false });
  }

  send(id: ClientId, message: unknown): void {
    this.session.onClientMessage(id, Buffer.from(JSON.stringify(message)), false);
  }

  /** Everything client `id` received, flattened. */
  messages(id: ClientId): Record<string, unknown>[] {
    return (this.inbox.get(id) ?? []).flat() as Record<string, unknown>[];
  }

  dataOf(id: ClientId): Record<string, unknown>[] {
    return this.messages(id).filter((m) => !CONTROL.has(m.T as string));
  }

  async close(): Promise<void> {
    this.reconnect = false;
    const ws = this.ws;
    this.ws = undefined;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.terminate();
    });
  }
}

/** Waits until `predicate()` holds, checking on each event-loop turn; bounded. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Normalises messages for comparison (timestamps as RFC-3339 strings). */
export function plain(value: unknown): unknown {
  // 64-bit ids (bigint) as their digits, as the strategy fixtures print them.
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}
