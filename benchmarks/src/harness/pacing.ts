// Fixed-rate sending for latency runs. A writer that bursts (e.g. 10 records per 1 ms timer tick) would measure
// queueing, not latency, so each record goes out at its own instant: sleep (Atomics.wait, microsecond-capable and
// CPU-free) until ~100 us before it is due, then spin the rest. At 100k msg/s that is pure spin, at 1k msg/s
// almost pure sleep — the writer does not steal the reader's core when it has nothing to do.

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const SPIN_NS = 100_000n;

export function sleepUntil(deadlineNs: bigint): void {
  const remaining = deadlineNs - process.hrtime.bigint();
  if (remaining > SPIN_NS + 50_000n) Atomics.wait(sleepCell, 0, 0, Number(remaining - SPIN_NS) / 1e6);
  while (process.hrtime.bigint() < deadlineNs) {
    // spin the last stretch for precision
  }
}

/** Sleeps ~`micros` without the event loop (for short back-off while a ring is full). */
export function pauseMicros(micros: number): void {
  Atomics.wait(sleepCell, 0, 0, micros / 1000);
}

/**
 * Calls `send(i)` at `rate` per second for `durationMs`, yielding to the event loop every few milliseconds so
 * sockets (doorbells, IPC) stay serviced. Returns how many were sent.
 */
export async function paced(rate: number, durationMs: number, send: (i: number) => void): Promise<number> {
  const intervalNs = 1e9 / rate;
  const start = process.hrtime.bigint() + 1_000_000n;
  const total = Math.floor((rate * durationMs) / 1000);
  let lastYield = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    sleepUntil(start + BigInt(Math.round(i * intervalNs)));
    send(i);
    const now = process.hrtime.bigint();
    if (now - lastYield > 5_000_000n) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = process.hrtime.bigint();
    }
  }
  return total;
}
