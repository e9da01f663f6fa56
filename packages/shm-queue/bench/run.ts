/**
 * Quick local benchmark of @wsproxy/shm-queue (the repo-wide harness in /benchmarks has the full suite).
 *   npx tsx bench/run.ts            (after `pnpm build`)
 * Throughput of 100-byte records to K = 1 and K = 4 reader processes, one-way latency at 10k msg/s with
 * `block` and `spin` readers, and the CPU a blocked reader uses while idle.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DoorbellServer, RingWriter } from '../src/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'shmq-bench-'));
const children = new Set<ChildProcess>();
const quick = process.argv.includes('--quick');

interface Reader {
  next<T>(event: string): Promise<T>;
}

function startReader(name: string, socket: string, mode: string, idle: string): Reader {
  const child = spawn(process.execPath, [join(here, 'reader.mjs'), name, socket, mode, idle], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const queue: Array<Record<string, unknown>> = [];
  let wake: (() => void) | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    queue.push(JSON.parse(line) as Record<string, unknown>);
    wake?.();
  });
  return {
    async next<T>(event: string): Promise<T> {
      for (;;) {
        const index = queue.findIndex((message) => message.event === event);
        if (index >= 0) return queue.splice(index, 1)[0] as T;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}

async function ring(label: string, options: { backPressure?: boolean; capacity?: number } = {}) {
  const name = `wsproxy-bench-${process.pid}-${label}`;
  const writer = RingWriter.create({
    name,
    capacity: options.capacity ?? 1 << 23,
    backPressure: options.backPressure,
  });
  const doorbell = await DoorbellServer.listen({ writer, path: join(folder, `${label}.sock`) });
  return {
    writer,
    doorbell,
    async close() {
      writer.close();
      await doorbell.close();
    },
  };
}

const nap = new Int32Array(new SharedArrayBuffer(4));

async function throughput(readers: number, records: number, idle: 'block' | 'spin') {
  const { writer, doorbell, close } = await ring(`tp${readers}`, { backPressure: true });
  // `block` readers never sleep while records keep coming and give their core back when they catch up: on a
  // machine with fewer cores than processes that can beat spinning.
  const procs = Array.from({ length: readers }, () =>
    startReader(writer.name, doorbell.path, 'throughput', idle),
  );
  await Promise.all(procs.map((p) => p.next('ready')));
  await doorbell.waitForReaders(readers);
  const record = new Uint8Array(100);
  const started = performance.now();
  // Batches of 64 under one cork: one publication and at most one doorbell round per batch.
  for (let i = 0; i < records; i += 64) {
    writer.cork();
    for (let j = i; j < Math.min(records, i + 64); j++) {
      while (!writer.write(record)) Atomics.wait(nap, 0, 0, 0.02);
    }
    writer.uncork();
  }
  const writerSeconds = (performance.now() - started) / 1000;
  await close();
  const results = await Promise.all(procs.map((p) => p.next<{ perSecond: number; count: number }>('done')));
  const rates = results.map((r) => r.perSecond).sort((a, b) => a - b);
  return {
    readers,
    records,
    writerPerSecond: records / writerSeconds,
    perReaderMedian: median(rates),
    rates,
  };
}

async function latency(idle: 'block' | 'spin', rate: number, seconds: number) {
  const { writer, doorbell, close } = await ring(`lat-${idle}`);
  const reader = startReader(writer.name, doorbell.path, 'latency', idle);
  await reader.next('ready');
  await doorbell.waitForReaders(1);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const record = new Uint8Array(100);
  const stamp = new DataView(record.buffer);
  const interval = 1e9 / rate;
  const total = rate * seconds;
  let due = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    due += BigInt(Math.round(interval));
    // Sleep (futex with a timeout, finer than timers) until the next send time instead of burning the core
    // the reader may need; the latency is measured from the actual send, so late sends do not skew it.
    const wait = Number(due - process.hrtime.bigint()) / 1e6;
    if (wait > 0) Atomics.wait(nap, 0, 0, wait);
    stamp.setBigUint64(0, process.hrtime.bigint(), true);
    writer.write(record);
  }
  await close();
  const { latencies } = await reader.next<{ latencies: number[] }>('done');
  latencies.sort((a, b) => a - b);
  return {
    idle,
    rate,
    messages: latencies.length,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    p999: percentile(latencies, 0.999),
  };
}

async function idleCpu(seconds: number) {
  const { writer, doorbell, close } = await ring('idle');
  const reader = startReader(writer.name, doorbell.path, 'idle', 'block');
  await reader.next('ready');
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await close();
  return reader.next<{ cpuPercent: number; ms: number }>('done');
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

try {
  const records = quick ? 1_000_000 : 5_000_000;
  for (const [k, idle] of [
    [1, 'spin'],
    [1, 'block'],
    [4, 'block'],
  ] as const) {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await throughput(k, records, idle));
    const perReader = median(runs.map((r) => r.perReaderMedian).sort((a, b) => a - b));
    const writerRate = median(runs.map((r) => r.writerPerSecond).sort((a, b) => a - b));
    console.log(
      `throughput K=${k} (${idle} readers): ${(perReader / 1e6).toFixed(2)}M msg/s per reader (median of 3), writer ${(writerRate / 1e6).toFixed(2)}M msg/s`,
    );
  }
  for (const idle of ['block', 'spin'] as const) {
    const r = await latency(idle, 10_000, quick ? 1 : 3);
    console.log(
      `latency ${idle} @10k msg/s: p50 ${r.p50.toFixed(1)} us, p99 ${r.p99.toFixed(1)} us, p99.9 ${r.p999.toFixed(1)} us (${r.messages} msgs)`,
    );
  }
  const idle = await idleCpu(quick ? 3 : 10);
  console.log(
    `idle blocked reader: ${idle.cpuPercent.toFixed(3)}% CPU over ${(idle.ms / 1000).toFixed(1)} s`,
  );
} finally {
  for (const child of children) child.kill('SIGKILL');
  rmSync(folder, { recursive: true, force: true });
}
