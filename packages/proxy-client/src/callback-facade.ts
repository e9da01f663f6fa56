import type { LogLevel } from '@wsproxy/protocol';
import { connect, type WsproxyClient } from './client.js';
import { ClosedError, InvalidArgumentError, WsproxyClientError } from './errors.js';
import type { ConnectOptions, OpenOptions } from './options.js';
import type { SharedSocket } from './shared-socket.js';

/**
 * The callbacks of the C++ original's `WebsocketProxyCallback`, for code ported from it. Ids are this facade's
 * own handles (stable across daemon restarts), never 0.
 */
export interface WebsocketProxyCallback {
  /** The daemon went away; with recovery on (the default) sockets come back by themselves. */
  onWebsocketProxyServerDisconnected(): void;
  onWebsocketOpened(id: number): void;
  onWebsocketClosed(id: number): void;
  onWebsocketError(id: number, error: WsproxyClientError): void;
  /**
   * A piece of an upstream message: `remaining` bytes of the same message follow in later calls (0: this is the
   * end). Small messages come whole, with `remaining` 0. `binary` tells text from binary frames.
   */
  onWebsocketData(id: number, data: Buffer, remaining: number, binary: boolean): void;
  /** Optional: what the facade itself has to say (reconnects, gaps). */
  onLog?(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
}

/**
 * The C++ original's `WebsocketProxyClient`, on top of `WsproxyClient`: open by URL, get numeric ids, receive data
 * through one callback object.
 */
export class WebsocketProxyClient {
  private client: WsproxyClient | undefined;
  private starting: Promise<WsproxyClient> | undefined;
  private readonly sockets = new Map<number, SharedSocket>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly callback: WebsocketProxyCallback,
    private readonly options: ConnectOptions = {},
  ) {
    if (typeof callback !== 'object' || callback === null) {
      throw new InvalidArgumentError('callback must be an object implementing WebsocketProxyCallback');
    }
    for (const name of [
      'onWebsocketProxyServerDisconnected',
      'onWebsocketOpened',
      'onWebsocketClosed',
      'onWebsocketError',
      'onWebsocketData',
    ] as const) {
      if (typeof callback[name] !== 'function')
        throw new InvalidArgumentError(`callback.${name} must be a function`);
    }
  }

  /** The daemon's pid: identifies the server this facade talks to (0 before the first open). */
  get serverId(): number {
    return this.client?.daemonPid ?? 0;
  }

  /** Opens (or joins) the shared connection; resolves with its id and whether this call created it. */
  async openWebSocket(url: string, options: OpenOptions = {}): Promise<{ id: number; isNew: boolean }> {
    const id = this.nextId++;
    const socket = await this.openWithId(id, url, options);
    return { id, isNew: socket.isNew };
  }

  /**
   * Starts opening and returns the id at once; `onWebsocketOpened(id)` or `onWebsocketError(id, error)` follows.
   */
  openWebSocketAsync(url: string, options: OpenOptions = {}): number {
    const id = this.nextId++;
    this.openWithId(id, url, options).catch((error: unknown) => {
      this.callback.onWebsocketError(id, asClientError(error));
    });
    return id;
  }

  /** Closes one socket, or all of them with id 0. */
  async closeWebSocket(id = 0): Promise<void> {
    const targets = id === 0 ? [...this.sockets.values()] : [this.socket(id)];
    await Promise.all(targets.map((socket) => socket.close()));
  }

  async send(id: number, data: string | Uint8Array): Promise<void> {
    await this.socket(id).send(data);
  }

  /** Adapter-level subscribe; resolves true when the subscription already existed (someone else holds it). */
  async subscribe(id: number, params: string | Uint8Array): Promise<boolean> {
    return (await this.socket(id).subscribe(params)).alreadySubscribed;
  }

  /** Adapter-level unsubscribe; resolves true when the subscription still exists for other clients. */
  async unsubscribe(id: number, params: string | Uint8Array): Promise<boolean> {
    return (await this.socket(id).unsubscribe(params)).stillSubscribed;
  }

  async setLogLevel(level: LogLevel): Promise<void> {
    await (await this.ensureClient()).setLogLevel(level);
  }

  /** Closes every socket and the connection to the daemon. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client ?? (await this.starting?.catch(() => undefined));
    await client?.close();
  }

  private socket(id: number): SharedSocket {
    const socket = this.sockets.get(id);
    if (!socket) throw new InvalidArgumentError(`no open websocket with id ${id}`);
    return socket;
  }

  private ensureClient(): Promise<WsproxyClient> {
    if (this.closed) return Promise.reject(new ClosedError('this WebsocketProxyClient'));
    if (this.client) return Promise.resolve(this.client);
    this.starting ??= connect(this.options).then((client) => {
      this.client = client;
      client.on('disconnected', () => this.callback.onWebsocketProxyServerDisconnected());
      client.on('reconnected', (info) =>
        this.callback.onLog?.(
          'info',
          `reconnected to wsproxy daemon ${info.daemonPid} after ${info.downtimeMs} ms`,
        ),
      );
      return client;
    });
    return this.starting;
  }

  private async openWithId(id: number, url: string, options: OpenOptions): Promise<SharedSocket> {
    const client = await this.ensureClient();
    const socket = await client.open(url, options);
    this.sockets.set(id, socket);
    socket.on('fragment', (fragment) =>
      this.callback.onWebsocketData(id, fragment.data, fragment.remaining, fragment.binary),
    );
    socket.on('error', (error) => this.callback.onWebsocketError(id, error));
    socket.on('gap', (gap) =>
      this.callback.onLog?.('warn', `websocket ${id}: ${gap.lostMessages} records lost (gap)`),
    );
    socket.on('close', () => {
      this.sockets.delete(id);
      this.callback.onWebsocketClosed(id);
    });
    this.callback.onWebsocketOpened(id);
    return socket;
  }
}

function asClientError(error: unknown): WsproxyClientError {
  if (error instanceof WsproxyClientError) return error;
  const code = (error as { code?: unknown }).code;
  return new WsproxyClientError(
    typeof code === 'string' ? code : 'WSP_ERR_INTERNAL',
    (error as Error).message,
  );
}
