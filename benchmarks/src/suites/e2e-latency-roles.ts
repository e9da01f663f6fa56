// Agent side of the end-to-end latency suite. One agent is the upstream: a local ws server that stamps every
// 100-byte binary frame with CLOCK_MONOTONIC (process.hrtime.bigint(), shared by every process of the machine)
// just before sending it, at a fixed rate, steady or in bursts. The others are strategies: a plain ws client
// connected straight to the upstream (the baseline), or a @wsproxy/client sharing the upstream through the daemon.
// Every reader subtracts the stamp on receipt.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { sleepUntilDue } from '../harness/pacing.js';
import {
  FLAG_END,
  makeRecord,
  ReceiveTally,
  recordFlags,
  recordSeq,
  recordStamp,
  stampRecord,
} from '../harness/records.js';
import { type LatencyPercentiles, latencyPercentiles } from '../harness/stats.js';
import { loadClient, type SharedSocketApi, type WsproxyClientApi } from './proxy-api.js';

export type IdleMode = 'block' | 'backoff' | 'spin';

/** How the upstream sends: `burst` frames back to back (one TCP write), `rate` frames per second overall. */
export interface Pattern {
  rate: number;
  burst: number;
}

export type E2eLatencyRun = LatencyPercentiles & { received: number; lost: number };

// ---- upstream ----------------------------------------------------------------------------------------------

interface Peer {
  ws: WebSocket;
  socket: Socket;
}

let http: Server | undefined;
let wss: WebSocketServer | undefined;
let peers: Peer[] = [];
let allConnected: Promise<void> = Promise.resolve();

/** Starts the upstream on 127.0.0.1 for `peers` connections (K direct strategies, or the one daemon). */
export async function upstreamSetup(args: { peers: number }): Promise<{ url: string }> {
  peers = [];
  http = createServer();
  wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  let resolveAll!: () => void;
  allConnected = new Promise((resolve) => {
    resolveAll = resolve;
  });
  wss.on('connection', (ws, req) => {
    req.socket.setNoDelay(true);
    peers.push({ ws, socket: req.socket });
    if (peers.length === args.peers) resolveAll();
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}` };
}

/**
 * Sends stamped frames to every peer at the pattern's rate for `durationMs`, then the end marker. Each frame is
 * stamped once, just before its first send: with K direct peers the K-th copy leaves later, which is the cost
 * of K direct connections that the comparison is about. A burst is corked per peer, so it leaves in one write,
 * as a real upstream's batch does. Between bursts the upstream sleeps (no spinning: see harness/pacing.ts).
 */
export async function upstreamPaced(args: Pattern & { durationMs: number }): Promise<{ sent: number }> {
  await allConnected;
  const intervalNs = (1e9 * args.burst) / args.rate;
  const bursts = Math.max(1, Math.floor((args.rate * args.durationMs) / 1000 / args.burst));
  const start = process.hrtime.bigint() + 2_000_000n;
  let seq = 0;
  let lastYield = start;
  for (let b = 0; b < bursts; b++) {
    sleepUntilDue(start + BigInt(Math.round(b * intervalNs)));
    for (const peer of peers) peer.socket.cork();
    for (let i = 0; i < args.burst; i++) {
      // A fresh buffer per frame: a corked socket keeps a reference to what ws queued, not a copy.
      const frame = makeRecord(seq++);
      stampRecord(frame, process.hrtime.bigint());
      for (const peer of peers) peer.ws.send(frame, { binary: true });
    }
    for (const peer of peers) peer.socket.uncork();
    const now = process.hrtime.bigint();
    // Let the sockets flush and the IPC channel breathe every few ms: the sends above only queue.
    if (now - lastYield > 4_000_000n) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = process.hrtime.bigint();
    }
  }
  const end = makeRecord(seq, FLAG_END);
  for (const peer of peers) peer.ws.send(end, { binary: true });
  return { sent: seq };
}

export async function upstreamTeardown(): Promise<void> {
  for (const peer of peers) peer.ws.terminate();
  peers = [];
  wss?.close();
  wss = undefined;
  if (http) {
    const closing = once(http, 'close');
    http.close();
    await closing;
    http = undefined;
  }
}

// ---- strategies --------------------------------------------------------------------------------------------

/** Latency samples of one run, in microseconds; preallocated so the hot path allocates nothing. */
class LatencyLog {
  readonly tally = new ReceiveTally();
  private readonly samples: Float64Array;
  private count = 0;

  constructor(capacity: number) {
    this.samples = new Float64Array(capacity);
  }

  /** Accounts one frame; true at the end marker. */
  onFrame(view: DataView, offset: number): boolean {
    const now = process.hrtime.bigint();
    const flags = recordFlags(view, offset);
    if ((flags & FLAG_END) === 0 && this.count < this.samples.length) {
      this.samples[this.count++] = Number(now - recordStamp(view, offset)) / 1000;
    }
    return this.tally.onRecord(recordSeq(view, offset), flags);
  }

  result(lost: number): E2eLatencyRun {
    return {
      ...latencyPercentiles(this.samples.subarray(0, this.count)),
      received: this.tally.received,
      lost: lost + this.tally.missing,
    };
  }
}

let done: Promise<E2eLatencyRun> | undefined;

/** A strategy with its own WebSocket to the upstream. */
export async function directStart(args: { url: string; samples: number }): Promise<void> {
  const ws = new WebSocket(args.url, { perMessageDeflate: false });
  await once(ws, 'open');
  const log = new LatencyLog(args.samples);
  done = new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('close', () => resolve(log.result(0)));
    ws.on('message', (data: Buffer) => {
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (log.onFrame(view, 0)) {
        ws.terminate();
        resolve(log.result(0));
      }
    });
  });
}

let client: WsproxyClientApi | undefined;
let clientIdle: IdleMode | undefined;
let socket: SharedSocketApi | undefined;

/**
 * A strategy sharing the upstream through @wsproxy/client with the given idle strategy. The daemon is spawned by
 * the first client (as in real use) and lingers between rounds; a client whose idle strategy changes reconnects.
 */
export async function proxyConnect(args: {
  namespace: string;
  runtimeDir: string;
  daemonArgs: string[];
  idle: IdleMode;
}): Promise<{ daemonPid: number }> {
  if (client && clientIdle !== args.idle) await proxyDisconnect();
  if (!client) {
    const api = await loadClient();
    if (typeof api === 'string') throw new Error(api);
    client = await api.connect({
      namespace: args.namespace,
      runtimeDir: args.runtimeDir,
      name: `bench-latency-${process.pid}`,
      daemonArgs: args.daemonArgs,
      idle: args.idle,
      connectTimeoutMs: 30_000,
    });
    clientIdle = args.idle;
  }
  return { daemonPid: client.daemonPid };
}

export async function proxyStart(args: { url: string; samples: number }): Promise<void> {
  const s = await client!.open(args.url);
  socket = s;
  const log = new LatencyLog(args.samples);
  let lost = 0;
  done = new Promise((resolve, reject) => {
    s.on('error', reject);
    s.on('gap', (info) => {
      lost += info.lostMessages;
    });
    s.on('close', () => resolve(log.result(lost)));
    s.on('message', (message) => {
      if (!message.binary) return;
      const data = message.data;
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (log.onFrame(view, 0)) resolve(log.result(lost));
    });
  });
}

/** Waits for the end marker; returns the run's percentiles (us). */
export async function finish(): Promise<E2eLatencyRun> {
  const result = await done!;
  done = undefined;
  await socket?.close();
  socket = undefined;
  return result;
}

export async function proxyDisconnect(): Promise<void> {
  await socket?.close();
  socket = undefined;
  await client?.close();
  client = undefined;
  clientIdle = undefined;
}
