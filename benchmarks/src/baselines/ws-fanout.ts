// Baseline: a Node `ws` hub that fans every message out to K WebSocket clients on loopback — what a user would
// write without wsproxy. Two honest variants: `naive` (one ws.send per message per client, each its own write)
// and `corked` (the same sends inside socket.cork()/uncork(), so a batch leaves in one write per client). Both
// respect back-pressure (bufferedAmount), otherwise the numbers would measure memory growth, not delivery.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import {
  FLAG_END,
  makeRecord,
  ReceiveTally,
  type TallySummary,
  type TimedWriteArgs,
  type WriterSummary,
} from '../harness/records.js';

export type HubMode = 'naive' | 'corked';

interface Peer {
  ws: WebSocket;
  socket: Socket;
}

const HIGH_WATER = 1 << 20;

let http: Server | undefined;
let wss: WebSocketServer | undefined;
let peers: Peer[] = [];
let connected: Promise<void> = Promise.resolve();
let mode: HubMode = 'naive';

/** Starts a hub on 127.0.0.1; resolves with its URL. */
export async function hubSetup(args: { readers: number; mode: HubMode }): Promise<{ url: string }> {
  mode = args.mode;
  peers = [];
  http = createServer();
  wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  let resolveAll!: () => void;
  connected = new Promise((r) => {
    resolveAll = r;
  });
  wss.on('connection', (ws, req) => {
    req.socket.setNoDelay(true);
    peers.push({ ws, socket: req.socket });
    if (peers.length === args.readers) resolveAll();
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}` };
}

/** Sends one batch of records to every peer in the hub's mode. */
export function hubBroadcast(records: readonly Buffer[]): void {
  if (mode === 'corked') {
    for (const peer of peers) {
      peer.socket.cork();
      for (const record of records) peer.ws.send(record, { binary: true });
      peer.socket.uncork();
    }
  } else {
    for (const record of records) for (const peer of peers) peer.ws.send(record, { binary: true });
  }
}

/** Waits until every peer's send buffer is below the high-water mark. */
export async function hubDrain(): Promise<void> {
  for (const peer of peers) {
    while (peer.ws.bufferedAmount > HIGH_WATER && peer.ws.readyState === WebSocket.OPEN) {
      await once(peer.socket, 'drain');
    }
  }
}

export async function hubConnected(): Promise<void> {
  await connected;
}

export function hubPeerCount(): number {
  return peers.length;
}

export async function hubGo(args: TimedWriteArgs): Promise<WriterSummary> {
  await connected;
  const startNs = process.hrtime.bigint();
  const deadline = startNs + BigInt(args.durationMs) * 1_000_000n;
  let seq = 0;
  while (process.hrtime.bigint() < deadline) {
    const records: Buffer[] = [];
    for (let i = 0; i < args.batch; i++) records.push(makeRecord(seq++));
    hubBroadcast(records);
    await hubDrain();
  }
  hubBroadcast([makeRecord(seq, FLAG_END)]);
  return { sent: seq, startNs, endNs: process.hrtime.bigint() };
}

export async function hubTeardown(): Promise<void> {
  for (const peer of peers) peer.ws.terminate();
  peers = [];
  if (wss) {
    wss.close();
    wss = undefined;
  }
  if (http) {
    const closing = once(http, 'close');
    http.close();
    await closing;
    http = undefined;
  }
}

let finished: Promise<TallySummary> | undefined;

/** A plain ws client counting binary records until the end marker. */
export async function readerStart(args: { url: string }): Promise<void> {
  const ws = new WebSocket(args.url, { perMessageDeflate: false });
  await once(ws, 'open');
  const tally = new ReceiveTally();
  finished = new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('close', () => resolve(tally.summary()));
    ws.on('message', (data: Buffer) => {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (tally.onRecord(view.getUint32(0, true), view.getUint32(4, true))) {
        ws.terminate();
        resolve(tally.summary());
      }
    });
  });
}

export async function readerFinish(): Promise<TallySummary> {
  if (!finished) throw new Error('readerFinish before readerStart');
  const result = await finished;
  finished = undefined;
  return result;
}
