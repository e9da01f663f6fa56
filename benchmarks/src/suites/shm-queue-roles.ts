// Agent side of the shm-queue suite: a RingWriter with its DoorbellServer, RingReaders with their doorbell
// connections, driven the same way as the baseline transports (setup, start readers, timed burst or paced
// run, finish, teardown). Also the cross-process busy-spin ping-pong floor over one raw shared segment.
import { join } from 'node:path';
import { paced, pauseMicros } from '../harness/pacing.js';
import {
  FLAG_END,
  makeRecord,
  RECORD_SIZE,
  ReceiveTally,
  stampRecord,
  type TallySummary,
  type TimedWriteArgs,
  type WriterSummary,
} from '../harness/records.js';
import { type LatencyPercentiles, latencyPercentiles } from '../harness/stats.js';
import {
  type DoorbellConnectionApi,
  type DoorbellServerApi,
  type IdleStrategy,
  type RingReaderApi,
  type RingWriterApi,
  requireShmQueue,
} from './shm-queue-api.js';

/**
 * The ring's buffer: 32 MiB, the wsproxy daemon's default. On 2 cores shared by K reader processes and the writer,
 * a reader can be off the CPU for several ms; the ring must hold what the writer writes meanwhile, or a
 * back-pressure writer stalls on that one reader (with 4 MiB it was full ~30% of a run at K = 4).
 */
const CAPACITY = 32 << 20;

let writer: RingWriterApi | undefined;
let doorbell: DoorbellServerApi | undefined;
let expectedReaders = 0;

export interface RingAddress {
  name: string;
  path: string;
}

export async function writerSetup(args: {
  name: string;
  dir: string;
  readers: number;
  backPressure: boolean;
}): Promise<RingAddress> {
  const api = await requireShmQueue();
  writer = api.RingWriter.create({
    name: args.name,
    capacity: CAPACITY,
    maxReaders: 16,
    backPressure: args.backPressure,
  });
  const path = join(args.dir, `${args.name}.sock`);
  doorbell = await api.DoorbellServer.listen({ writer, path });
  expectedReaders = args.readers;
  return { name: args.name, path };
}

/**
 * Retries a write refused by a full back-pressure ring: a short spin, then short CPU-free pauses, and every so
 * often a turn of the event loop — the doorbell server must be able to run, or a reader asleep on its doorbell
 * would never free the room the writer waits for.
 */
async function writeWhenRoom(w: RingWriterApi, record: Uint8Array): Promise<void> {
  let tries = 0;
  while (!w.write(record)) {
    tries++;
    if (tries > 64) pauseMicros(20);
    if (tries % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

export async function writerGo(args: TimedWriteArgs): Promise<WriterSummary> {
  const w = writer!;
  await doorbell!.waitForReaders(expectedReaders);
  const record = makeRecord(0);
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const startNs = process.hrtime.bigint();
  const deadline = startNs + BigInt(args.durationMs) * 1_000_000n;
  let seq = 0;
  let lastYield = startNs;
  for (;;) {
    const now = process.hrtime.bigint();
    if (now >= deadline) break;
    // One batch, one publication: the same batching the Unix-socket baseline gets from one write per batch.
    w.cork();
    for (let i = 0; i < args.batch; i++) {
      view.setUint32(0, seq++, true);
      if (!w.write(record)) await writeWhenRoom(w, record);
    }
    w.uncork();
    if (now - lastYield > 5_000_000n) {
      // Let the doorbell server's socket events run (reader connections, wake-ups queued by the kernel).
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = process.hrtime.bigint();
    }
  }
  await writeWhenRoom(w, makeRecord(seq, FLAG_END));
  return { sent: seq, startNs, endNs: process.hrtime.bigint() };
}

/** Writes records stamped with their send time at a fixed rate (one-way latency runs). */
export async function writerPaced(args: { rate: number; durationMs: number }): Promise<WriterSummary> {
  const w = writer!;
  await doorbell!.waitForReaders(expectedReaders);
  const record = makeRecord(0);
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const startNs = process.hrtime.bigint();
  // Latency runs use overwrite mode: a write always succeeds at once.
  const sent = await paced(args.rate, args.durationMs, (i) => {
    view.setUint32(0, i, true);
    stampRecord(record, process.hrtime.bigint());
    w.write(record);
  });
  await writeWhenRoom(w, makeRecord(sent, FLAG_END));
  return { sent, startNs, endNs: process.hrtime.bigint() };
}

export async function writerTeardown(): Promise<void> {
  writer?.close({ unlink: true });
  writer = undefined;
  await doorbell?.close();
  doorbell = undefined;
}

interface ReaderState {
  reader: RingReaderApi;
  bell: DoorbellConnectionApi;
  done: Promise<TallySummary>;
  latencies?: Float64Array;
  latencyCount: number;
}

let state: ReaderState | undefined;

async function openReader(address: RingAddress, idle: IdleStrategy) {
  const api = await requireShmQueue();
  const reader = api.RingReader.open({ name: address.name, idle });
  const bell = await api.connectDoorbell(reader, { path: address.path });
  return { reader, bell };
}

/** Reads until the end marker with the zero-copy poll loop, tallying sequence numbers (and latency if asked). */
export async function readerStart(
  args: RingAddress & { idle?: IdleStrategy; latencySamples?: number },
): Promise<void> {
  const { reader, bell } = await openReader(args, args.idle ?? 'block');
  const tally = new ReceiveTally();
  const s: ReaderState = { reader, bell, done: Promise.resolve(tally.summary()), latencyCount: 0 };
  if (args.latencySamples) s.latencies = new Float64Array(args.latencySamples);
  let lastBuffer: Uint8Array | undefined;
  let view: DataView | undefined;
  let ended = false;
  const latencies = s.latencies;
  const onRecord = (buffer: Uint8Array, offset: number, length: number) => {
    if (ended || length < RECORD_SIZE) return;
    if (buffer !== lastBuffer) {
      lastBuffer = buffer;
      view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    }
    const now = latencies ? process.hrtime.bigint() : 0n;
    const seq = view!.getUint32(offset, true);
    const flags = view!.getUint32(offset + 4, true);
    const stamp = latencies ? view!.getBigUint64(offset + 8, true) : 0n;
    // Zero-copy read in overwrite mode: if the writer lapped us while we read, the bytes may be a newer record's;
    // verify() tells, and such a record counts as lost (like any record overwritten before we got to it).
    if (!reader.verify()) return;
    if (latencies && s.latencyCount < latencies.length && (flags & FLAG_END) === 0) {
      latencies[s.latencyCount++] = Number(now - stamp) / 1000;
    }
    ended = tally.onRecord(seq, flags);
  };
  s.done = (async () => {
    try {
      while (!ended && (await reader.ready())) reader.poll(onRecord, 4096);
      return tally.summary();
    } finally {
      lastBuffer = undefined;
      view = undefined;
      bell.close();
      reader.close();
    }
  })();
  state = s;
}

export async function readerFinish(): Promise<TallySummary> {
  const s = state!;
  state = undefined;
  return s.done;
}

export async function latencyFinish(): Promise<LatencyPercentiles & { received: number }> {
  const s = state!;
  state = undefined;
  const tally = await s.done;
  return { ...latencyPercentiles(s.latencies!.subarray(0, s.latencyCount)), received: tally.received };
}

/** Attaches a blocked reader and leaves it idle (for the idle-CPU measurement); `readerFinish` ends it. */
export async function idleReaderStart(args: RingAddress): Promise<{ pid: number }> {
  await readerStart({ ...args, idle: 'block' });
  return { pid: process.pid };
}

/** Ends an idle run: the writer sends only the end marker. */
export async function writerEndOnly(): Promise<void> {
  await doorbell!.waitForReaders(expectedReaders);
  await writeWhenRoom(writer!, makeRecord(0, FLAG_END));
}

// ---- physical floor: busy-spin ping-pong between two processes over one raw segment ------------------------

export async function pingPongOwner(args: { name: string; roundTrips: number }): Promise<number> {
  const api = await requireShmQueue();
  const segment = api.Segment.create(args.name, 4096);
  try {
    const cells = new Int32Array(segment.buffer);
    // cells[2] = 1 once the echo process is attached.
    const attachDeadline = Date.now() + 30_000;
    while (Atomics.load(cells, 2) !== 1) {
      if (Date.now() > attachDeadline) throw new Error('ping-pong echo never attached');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    let seq = 0;
    const trip = () => {
      seq++;
      Atomics.store(cells, 0, seq);
      while (Atomics.load(cells, 1) !== seq) {}
    };
    for (let i = 0; i < 10_000; i++) trip();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < args.roundTrips; i++) trip();
    const ns = Number(process.hrtime.bigint() - t0);
    Atomics.store(cells, 0, -1);
    return ns / args.roundTrips / 2 / 1000;
  } finally {
    segment.close();
    api.Segment.unlink(args.name);
  }
}

export async function pingPongEcho(args: { name: string }): Promise<void> {
  const api = await requireShmQueue();
  let segment: ReturnType<typeof api.Segment.open> | undefined;
  const deadline = Date.now() + 30_000;
  while (!segment) {
    try {
      segment = api.Segment.open(args.name);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  try {
    const cells = new Int32Array(segment.buffer);
    Atomics.store(cells, 2, 1);
    let seen = 0;
    let idleSpins = 0;
    const spinDeadline = process.hrtime.bigint() + 120_000_000_000n;
    for (;;) {
      const v = Atomics.load(cells, 0);
      if (v < 0) break;
      if (v !== seen) {
        seen = v;
        Atomics.store(cells, 1, v);
      } else if (++idleSpins === 1 << 22) {
        // Checking the clock only now and then keeps the echo's reaction time at one load.
        idleSpins = 0;
        if (process.hrtime.bigint() > spinDeadline) throw new Error('ping-pong owner went away');
      }
    }
  } finally {
    segment.close();
  }
}
