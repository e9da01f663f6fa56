// In-process micro-benchmark timing: call `body(n)` with growing batch sizes until one batch takes long enough to
// time reliably, then repeat batches until `ms` have passed. Returns operations per second.

/** `body(n)` must perform n operations and return something derived from them (kept to defeat dead-code removal). */
export function opsPerSecond(body: (n: number) => number, ms: number): number {
  let sink = 0;
  let n = 64;
  // Calibrate: find n such that one batch takes >= 1 ms.
  for (;;) {
    const t0 = process.hrtime.bigint();
    sink += body(n);
    const took = Number(process.hrtime.bigint() - t0);
    if (took >= 1e6 || n >= 1 << 26) break;
    n *= 4;
  }
  let ops = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(ms * 1e6));
  let now = start;
  while (now < until) {
    sink += body(n);
    ops += n;
    now = process.hrtime.bigint();
  }
  keep(sink);
  return ops / (Number(now - start) / 1e9);
}

let kept = 0;
function keep(value: number): void {
  kept = (kept + value) | 0;
}

export function keptValue(): number {
  return kept;
}
