// Summaries of repeated measurements. Medians, not means: on a noisy 2-core machine a single descheduled run
// would drag a mean around, while the median of several interleaved runs stays put.

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: quantileSorted(sorted, 0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    runs: sorted.length,
  };
}

/** Linear-interpolated quantile of an ascending array (q in [0, 1]). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface LatencyPercentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  samples: number;
}

/** Percentiles of latency samples (any unit); sorts the array in place to avoid a copy of a large sample set. */
export function latencyPercentiles(samples: Float64Array): LatencyPercentiles {
  samples.sort();
  return {
    p50: quantileSorted(samples, 0.5),
    p99: quantileSorted(samples, 0.99),
    p999: quantileSorted(samples, 0.999),
    max: samples.length > 0 ? samples[samples.length - 1]! : Number.NaN,
    samples: samples.length,
  };
}
