// Physical floors measured in one agent process: how fast this machine copies memory, and how fast two cores can
// hand a value back and forth through shared memory when both spin. No transport can beat these.
import { Worker } from 'node:worker_threads';
import { opsPerSecond } from '../harness/micro.js';
import { RECORD_SIZE } from '../harness/records.js';

/** Buffer.copy of a 100-byte record into a rolling 1 MiB arena: the cost floor of "write a record once". */
export function memcpyRecords(args: { ms: number }): number {
  const arena = Buffer.alloc(1 << 20);
  const record = Buffer.alloc(RECORD_SIZE, 0x61);
  const slots = Math.floor(arena.length / RECORD_SIZE);
  let slot = 0;
  return opsPerSecond((n) => {
    let copied = 0;
    for (let i = 0; i < n; i++) {
      copied += record.copy(arena, slot * RECORD_SIZE);
      slot = slot + 1 === slots ? 0 : slot + 1;
    }
    return copied;
  }, args.ms);
}

/** Bulk memcpy bandwidth (1 MiB copies), in bytes/s. */
export function memcpyBandwidth(args: { ms: number }): number {
  const size = 1 << 20;
  const from = Buffer.alloc(size, 0x61);
  const to = Buffer.alloc(size);
  return (
    opsPerSecond((n) => {
      let copied = 0;
      for (let i = 0; i < n; i++) copied += from.copy(to);
      return copied;
    }, args.ms) * size
  );
}

// The echo side of the ping-pong, as plain JS so the worker needs no TypeScript loader.
const ECHO = `
const { workerData } = require('node:worker_threads');
const cells = new Int32Array(workerData);
let seen = 0;
for (;;) {
  let v;
  while ((v = Atomics.load(cells, 0)) === seen) {}
  if (v < 0) break;
  seen = v;
  Atomics.store(cells, 1, v);
}
`;

/**
 * Busy-spin ping-pong between two threads over shared memory (SharedArrayBuffer + Atomics): the floor of one-way
 * latency between two cores on this machine. Returns the mean one-way time in microseconds (round trip / 2).
 */
export async function spinPingPong(args: { roundTrips: number }): Promise<number> {
  const sab = new SharedArrayBuffer(8);
  const cells = new Int32Array(sab);
  const worker = new Worker(ECHO, { eval: true, workerData: sab });
  try {
    await new Promise((resolve) => worker.once('online', resolve));
    const warm = Math.min(10_000, args.roundTrips);
    let seq = 0;
    const trip = () => {
      seq++;
      Atomics.store(cells, 0, seq);
      while (Atomics.load(cells, 1) !== seq) {}
    };
    for (let i = 0; i < warm; i++) trip();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < args.roundTrips; i++) trip();
    const ns = Number(process.hrtime.bigint() - t0);
    return ns / args.roundTrips / 2 / 1000;
  } finally {
    Atomics.store(cells, 0, -1);
    await worker.terminate();
  }
}
