// Baseline: fan-out over Unix sockets with length-prefixed frames, the best plain-Node alternative to shared
// memory. The writer builds each batch ONCE (n x [u32 length][record]) and hands the same Buffer to every reader's
// socket in one write (the corked batch: one syscall per batch per reader), and respects back-pressure so it
// measures what readers really receive, not what piles up in memory.
import { once } from 'node:events';
import { chmodSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { paced } from '../harness/pacing.js';
import {
  FLAG_END,
  fillRecord,
  RECORD_SIZE,
  ReceiveTally,
  stampRecord,
  type TallySummary,
  type TimedWriteArgs,
  type WriterSummary,
} from '../harness/records.js';
import { type LatencyPercentiles, latencyPercentiles } from '../harness/stats.js';

const FRAME = 4 + RECORD_SIZE;

let server: Server | undefined;
let clients: Socket[] = [];
let connected: Promise<void> = Promise.resolve();

export async function writerSetup(args: { dir: string; readers: number }): Promise<{ path: string }> {
  const path = join(args.dir, `fanout-${process.pid}.sock`);
  clients = [];
  let resolveAll!: () => void;
  connected = new Promise((r) => {
    resolveAll = r;
  });
  server = createServer({ noDelay: true }, (socket) => {
    clients.push(socket);
    socket.on('error', () => {});
    if (clients.length === args.readers) resolveAll();
  });
  server.listen(path);
  await once(server, 'listening');
  chmodSync(path, 0o600);
  return { path };
}

function buildBatch(batch: number, firstSeq: number, target: Buffer): void {
  for (let i = 0; i < batch; i++) {
    const at = i * FRAME;
    target.writeUInt32LE(RECORD_SIZE, at);
    fillRecord(target.subarray(at + 4, at + FRAME), firstSeq + i);
  }
}

export async function writerGo(args: TimedWriteArgs): Promise<WriterSummary> {
  await connected;
  const startNs = process.hrtime.bigint();
  const deadline = startNs + BigInt(args.durationMs) * 1_000_000n;
  let seq = 0;
  while (process.hrtime.bigint() < deadline) {
    // A fresh buffer per batch: a socket may still hold the previous one in its queue.
    const batch = Buffer.alloc(args.batch * FRAME, 0x61);
    buildBatch(args.batch, seq, batch);
    seq += args.batch;
    const blocked: Promise<unknown>[] = [];
    for (const socket of clients) if (!socket.write(batch)) blocked.push(once(socket, 'drain'));
    if (blocked.length > 0) await Promise.all(blocked);
  }
  const end = Buffer.alloc(FRAME, 0x61);
  end.writeUInt32LE(RECORD_SIZE, 0);
  fillRecord(end.subarray(4), seq, FLAG_END);
  for (const socket of clients) socket.write(end);
  return { sent: seq, startNs, endNs: process.hrtime.bigint() };
}

/** One frame per record at a fixed rate, each stamped just before its write (one-way latency runs). */
export async function writerPaced(args: { rate: number; durationMs: number }): Promise<WriterSummary> {
  await connected;
  const startNs = process.hrtime.bigint();
  const sent = await paced(args.rate, args.durationMs, (i) => {
    const frame = Buffer.alloc(FRAME, 0x61);
    frame.writeUInt32LE(RECORD_SIZE, 0);
    fillRecord(frame.subarray(4), i);
    stampRecord(frame.subarray(4), process.hrtime.bigint());
    for (const socket of clients) socket.write(frame);
  });
  const end = Buffer.alloc(FRAME, 0x61);
  end.writeUInt32LE(RECORD_SIZE, 0);
  fillRecord(end.subarray(4), sent, FLAG_END);
  for (const socket of clients) socket.write(end);
  return { sent, startNs, endNs: process.hrtime.bigint() };
}

export async function writerTeardown(): Promise<void> {
  for (const socket of clients) socket.destroy();
  clients = [];
  if (server) {
    const closing = once(server, 'close');
    server.close();
    await closing;
    server = undefined;
  }
}

let finished: Promise<TallySummary> | undefined;
let latencies: Float64Array | undefined;
let latencyCount = 0;

/**
 * Connects and starts counting; resolves once connected, so the writer can start. With `latencySamples`, also
 * records each record's one-way latency (receive time minus the writer's stamp) in microseconds.
 */
export async function readerStart(args: { path: string; latencySamples?: number }): Promise<void> {
  const socket = connect(args.path);
  await once(socket, 'connect');
  const tally = new ReceiveTally();
  latencies = args.latencySamples ? new Float64Array(args.latencySamples) : undefined;
  latencyCount = 0;
  let carry: Buffer | undefined;
  finished = new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => resolve(tally.summary()));
    socket.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (carry) {
        data = Buffer.concat([carry, chunk]);
        carry = undefined;
      }
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      let at = 0;
      while (data.length - at >= 4) {
        const len = view.getUint32(at, true);
        if (data.length - at < 4 + len) break;
        if (latencies && latencyCount < latencies.length && (view.getUint32(at + 8, true) & FLAG_END) === 0) {
          const now = process.hrtime.bigint();
          latencies[latencyCount++] = Number(now - view.getBigUint64(at + 12, true)) / 1000;
        }
        const ended = tally.onRecord(view.getUint32(at + 4, true), view.getUint32(at + 8, true));
        at += 4 + len;
        if (ended) {
          socket.destroy();
          resolve(tally.summary());
          return;
        }
      }
      if (at < data.length) carry = Buffer.from(data.subarray(at));
    });
  });
}

export async function readerFinish(): Promise<TallySummary> {
  if (!finished) throw new Error('readerFinish before readerStart');
  const result = await finished;
  finished = undefined;
  return result;
}

export async function latencyFinish(): Promise<LatencyPercentiles & { received: number }> {
  const tally = await readerFinish();
  const samples = latencies!.subarray(0, latencyCount);
  latencies = undefined;
  return { ...latencyPercentiles(samples), received: tally.received };
}
