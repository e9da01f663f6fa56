import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface ReceivedFrame {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** A real WebSocket server on 127.0.0.1 standing in for the vendor: counts connections, records what it gets. */
export class UpstreamServer {
  port = 0;
  /** Connections accepted since start (across restarts). */
  connections = 0;
  readonly sockets = new Set<WebSocket>();
  readonly received: ReceivedFrame[] = [];
  readonly upgradeHeaders: Array<Record<string, string | string[] | undefined>> = [];
  /** Close codes of connections the peer (the daemon) closed. */
  readonly closeCodes: number[] = [];
  private server: WebSocketServer | undefined;

  /** `autoPong: false` makes a server that never answers pings: a half-dead upstream. */
  constructor(private readonly options: { autoPong?: boolean; greeting?: string } = {}) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}/stream`;
  }

  async start(port = 0): Promise<this> {
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port,
      maxPayload: 64 * 1024 * 1024,
      autoPong: this.options.autoPong ?? true,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.port = (server.address() as AddressInfo).port;
    server.on('connection', (socket, request) => {
      this.connections += 1;
      this.upgradeHeaders.push(request.headers);
      this.sockets.add(socket);
      if (this.options.greeting !== undefined) socket.send(this.options.greeting);
      socket.on('message', (data, isBinary) => this.received.push({ data: data as Buffer, isBinary }));
      socket.on('close', (code) => {
        if (this.sockets.delete(socket)) this.closeCodes.push(code);
      });
    });
    this.server = server;
    return this;
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  /** Sends one frame on every open connection. */
  broadcast(data: string | Buffer, binary = typeof data !== 'string'): void {
    for (const socket of this.sockets) socket.send(data, { binary });
  }

  /** Drops every connection abruptly and stops listening. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Stop, then listen again on the same port (the daemon should reconnect). */
  async restart(): Promise<void> {
    const port = this.port;
    await this.stop();
    await this.start(port);
  }
}
