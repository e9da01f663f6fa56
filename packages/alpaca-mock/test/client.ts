/**
 * A plain `ws` client speaking Alpaca's protocol, as a strategy (or an SDK) would: JSON or msgpack chosen by the
 * upgrade's Content-Type, messages flattened out of their frames, helpers to await the next one.
 * msgpack is decoded with @msgpack/msgpack directly (not the mock's codec), timestamps kept as raw {sec, nsec}.
 */

import type { Socket } from 'node:net';
import { decode, decodeTimestampToTimeSpec, EXT_TIMESTAMP, ExtensionCodec, encode } from '@msgpack/msgpack';
import WebSocket from 'ws';

export const KEY = 'mock-key';
export const SECRET = 'mock-secret';

export interface TimeSpec {
  sec: number;
  nsec: number;
}

const rawTimestamps = new ExtensionCodec();
rawTimestamps.register({
  type: EXT_TIMESTAMP,
  encode: () => null,
  decode: (data: Uint8Array): TimeSpec => {
    const { sec, nsec } = decodeTimestampToTimeSpec(data);
    return { sec, nsec };
  },
});

export type Message = Record<string, unknown>;

export interface ConnectOptions {
  encoding?: 'json' | 'msgpack';
  headers?: Record<string, string>;
}

export class AlpacaClient {
  readonly messages: Message[] = [];
  readonly frames: { binary: boolean; count: number }[] = [];
  private cursor = 0;
  private readonly listeners = new Set<() => void>();
  readonly closed: Promise<{ code: number; reason: string }>;
  closeCode: number | null = null;
  /** The TCP socket under the WebSocket (to stop reading, like a stuck client). */
  socket: Socket | null = null;

  private constructor(
    readonly ws: WebSocket,
    readonly encoding: 'json' | 'msgpack',
  ) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeCode = code;
        resolve({ code, reason: reason.toString() });
        this.notify();
      });
    });
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      const decoded: unknown = isBinary
        ? encoding === 'msgpack'
          ? decode(buf, { extensionCodec: rawTimestamps })
          : JSON.parse(buf.toString('utf8'))
        : JSON.parse(buf.toString('utf8'));
      const list = Array.isArray(decoded) ? (decoded as Message[]) : [decoded as Message];
      this.frames.push({ binary: isBinary, count: list.length });
      this.messages.push(...list);
      this.notify();
    });
  }

  static connect(url: string, options: ConnectOptions = {}): Promise<AlpacaClient> {
    const encoding = options.encoding ?? 'json';
    const headers: Record<string, string> = { ...options.headers };
    if (encoding === 'msgpack') headers['Content-Type'] = 'application/msgpack';
    const ws = new WebSocket(url, { headers });
    const client = new AlpacaClient(ws, encoding);
    ws.once('upgrade', (res) => {
      client.socket = res.socket;
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Connects, waits for `connected`, authenticates with the default keys. */
  static async authenticated(url: string, options: ConnectOptions = {}): Promise<AlpacaClient> {
    const client = await AlpacaClient.connect(url, options);
    await client.next((m) => m.msg === 'connected');
    client.send({ action: 'auth', key: KEY, secret: SECRET });
    await client.next((m) => m.T === 'success' && m.msg === 'authenticated');
    return client;
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  send(message: unknown): void {
    this.ws.send(this.encoding === 'msgpack' ? encode(message) : JSON.stringify(message));
  }

  /** The next message (after the previous `next`) matching `predicate`; moves the cursor past it. */
  next(predicate: (m: Message) => boolean = () => true, timeoutMs = 4000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = () => {
        while (this.cursor < this.messages.length) {
          const m = this.messages[this.cursor++] as Message;
          if (predicate(m)) {
            cleanup();
            resolve(m);
            return;
          }
        }
        if (this.closeCode !== null) {
          cleanup();
          reject(new Error(`closed (${this.closeCode}) before a matching message arrived`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(-5))}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Waits until at least `count` messages matching `predicate` have arrived in total. */
  async collect(predicate: (m: Message) => boolean, count: number, timeoutMs = 4000): Promise<Message[]> {
    const found = () => this.messages.filter(predicate);
    if (found().length >= count) return found();
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (found().length < count) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`only ${found().length}/${count} matching messages within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
    return found();
  }

  /** Sends a (un)subscribe and resolves with the ack or error that answers it. */
  async request(message: Message): Promise<Message> {
    this.send(message);
    return this.next((m) => m.T === 'subscription' || m.T === 'error');
  }

  async close(): Promise<void> {
    if (this.closeCode === null) {
      this.ws.close();
      await Promise.race([this.closed, new Promise((r) => setTimeout(r, 1000))]);
      this.ws.terminate();
    }
  }
}

export const isData = (m: Message) =>
  typeof m.T === 'string' && !['success', 'error', 'subscription'].includes(m.T as string);

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Tracks clients and mocks a test opens, so afterEach can close them all. */
export class Cleanup {
  private readonly items: { close(): Promise<void> | void }[] = [];
  add<T extends { close(): Promise<void> | void }>(item: T): T {
    this.items.push(item);
    return item;
  }
  async run(): Promise<void> {
    const items = this.items.splice(0).reverse();
    for (const item of items) await item.close();
  }
}
