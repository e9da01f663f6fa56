// Baseline for the end-to-end proxy: the naive Node `ws` hub a user would write to share one upstream — it holds
// the upstream WebSocket and re-sends every frame to each of its K local WebSocket clients, one send per frame per
// client. It still honours back-pressure (pauses the upstream while a client's buffer is full): without that it
// would only measure how fast memory fills.
//
// `corked` is the hub a careful engineer would write: every frame that arrives in one event-loop turn (ws emits
// all the frames of one TCP read synchronously) is queued on corked client sockets, and the sockets are uncorked
// once, in a microtask after the turn's frames — one write per client per turn instead of one per frame.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

// Enough to keep every client's socket busy; more would only lengthen the drain after the upstream stops.
const HIGH_WATER = 256 * 1024;

let http: Server | undefined;
let wss: WebSocketServer | undefined;
let upstream: WebSocket | undefined;
let clients: { ws: WebSocket; socket: Socket }[] = [];

export type RelayMode = 'naive' | 'corked';
let mode: RelayMode = 'naive';
let corked = false;

function uncorkAll(): void {
  corked = false;
  for (const client of clients) client.socket.uncork();
}

export async function relaySetup(args: {
  upstreamUrl: string;
  clients: number;
  mode?: RelayMode;
}): Promise<{ url: string }> {
  clients = [];
  mode = args.mode ?? 'naive';
  http = createServer();
  wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    req.socket.setNoDelay(true);
    clients.push({ ws, socket: req.socket });
    // The hub dials upstream once all its clients are there, as a hub started on demand would.
    if (clients.length === args.clients) connectUpstream(args.upstreamUrl);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}` };
}

function connectUpstream(url: string): void {
  const up = new WebSocket(url, { perMessageDeflate: false });
  upstream = up;
  up.on('error', () => {});
  up.on('message', (data: RawData, isBinary: boolean) => {
    let full = false;
    if (mode === 'corked' && !corked) {
      corked = true;
      for (const client of clients) client.socket.cork();
      queueMicrotask(uncorkAll);
    }
    for (const client of clients) {
      client.ws.send(data as Buffer, { binary: isBinary });
      if (client.ws.bufferedAmount > HIGH_WATER) full = true;
    }
    if (full && !up.isPaused) {
      up.pause();
      void resumeWhenDrained(up);
    }
  });
}

async function resumeWhenDrained(up: WebSocket): Promise<void> {
  for (const client of clients) {
    while (client.ws.bufferedAmount > HIGH_WATER && client.ws.readyState === WebSocket.OPEN) {
      await once(client.socket, 'drain');
    }
  }
  up.resume();
}

export async function relayTeardown(): Promise<void> {
  upstream?.terminate();
  upstream = undefined;
  for (const client of clients) client.ws.terminate();
  clients = [];
  wss?.close();
  wss = undefined;
  if (http) {
    const closing = once(http, 'close');
    http.close();
    await closing;
    http = undefined;
  }
}
