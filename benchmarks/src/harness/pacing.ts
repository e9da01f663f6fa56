// Fixed-rate sending for latency runs. A writer that bursts (e.g. 10 records per 1 ms timer tick) would measure
// queueing, not latency, so each record goes out at its own instant.
//
// Between records the writer SLEEPS (Atomics.wait: CPU-free, microsecond-capable), as a real daemon sits in epoll
// between upstream frames. It used to spin the last 100 us before each record for a more exact schedule, which at
// 10k msg/s meant spinning all the time: on 2 cores that keeps one core busy, and because a Unix-socket wake-up is
// a "sync" wake-up the kernel then queues the woken reader behind the still-running writer — doubling the p50 and
// putting milliseconds into the p99 of the ring and the Unix-socket baseline alike, none of it the transport's.
// Sleeping costs schedule precision (a wake-up is ~50 us late: the kernel's timer slack), not measurement
// precision: every record is stamped just before it is written. Only when records are closer than SPIN_BELOW_NS
// (above 20k msg/s) does the writer spin instead, since it could not keep the rate while sleeping.

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const SPIN_BELOW_NS = 50_000;
const SPIN_NS = 100_000n;

/** Sleeps until `deadlineNs` (CLOCK_MONOTONIC), waking a little late rather than spinning. */
export function sleepUntilDue(deadlineNs: bigint): void {
  const remaining = deadlineNs - process.hrtime.bigint();
  if (remaining > 0n) Atomics.wait(sleepCell, 0, 0, Number(remaining) / 1e6);
}

/** Sleeps until ~100 us before `deadlineNs`, then spins to it: precise, but busy for those 100 us. */
export function spinUntil(deadlineNs: bigint): void {
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
  const waitUntil = intervalNs < SPIN_BELOW_NS ? spinUntil : sleepUntilDue;
  const start = process.hrtime.bigint() + 1_000_000n;
  const total = Math.floor((rate * durationMs) / 1000);
  let lastYield = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    waitUntil(start + BigInt(Math.round(i * intervalNs)));
    send(i);
    const now = process.hrtime.bigint();
    if (now - lastYield > 5_000_000n) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = process.hrtime.bigint();
    }
  }
  return total;
}
