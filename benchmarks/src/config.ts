// How much to measure in each mode. `quick` is the CI smoke run: every case runs at least once, bounded by about
// 3 minutes; `full` is what docs/benchmarks.md is generated from.
export type Mode = 'quick' | 'full';

export interface ModeParams {
  /** Rounds discarded before measuring. */
  warmup: number;
  /** Measured rounds per case (interleaved across contenders). */
  runs: number;
  /** Length of one throughput run. */
  throughputMs: number;
  /** Reader / client counts for fan-out cases. */
  ks: number[];
  /** Length of one fixed-rate latency run. */
  latencyMs: number;
  latencyRuns: number;
  latencyRates: number[];
  /** End-to-end latency (upstream -> K strategies): length of one run, measured rounds, patterns, K values. */
  e2eLatencyMs: number;
  e2eRuns: number;
  e2ePatterns: { rate: number; burst: number }[];
  e2eKs: number[];
  /** Window over which idle CPU is measured. */
  idleWindowMs: number;
  /** Length of one in-process micro-benchmark run. */
  microMs: number;
  /** Wall-clock budget of the whole session. */
  budgetMs: number;
}

export const modes: Record<Mode, ModeParams> = {
  quick: {
    // No warm-up round: quick is a smoke run (does every case still work?), its numbers are indicative only.
    warmup: 0,
    runs: 2,
    throughputMs: 250,
    ks: [1, 2, 4, 8],
    latencyMs: 500,
    latencyRuns: 1,
    latencyRates: [1_000, 10_000, 100_000],
    // Every contender and pattern once, K = 1 and 4 only (fewer agents to start), short runs: ~30 s here.
    e2eLatencyMs: 150,
    e2eRuns: 1,
    e2ePatterns: [
      { rate: 1_000, burst: 1 },
      { rate: 10_000, burst: 10 },
    ],
    e2eKs: [1, 4],
    idleWindowMs: 2_000,
    microMs: 150,
    // 2.5 min for the suites before e2e-latency, plus ~30 s for it.
    budgetMs: 180_000,
  },
  full: {
    warmup: 1,
    runs: 5,
    throughputMs: 1_000,
    ks: [1, 2, 4, 8],
    latencyMs: 3_000,
    latencyRuns: 3,
    latencyRates: [1_000, 10_000, 100_000],
    e2eLatencyMs: 2_000,
    e2eRuns: 5,
    // Steady (one frame at a time) and bursty (10 frames back to back, one TCP write) at 1k and 10k msg/s.
    e2ePatterns: [
      { rate: 1_000, burst: 1 },
      { rate: 1_000, burst: 10 },
      { rate: 10_000, burst: 1 },
      { rate: 10_000, burst: 10 },
    ],
    e2eKs: [1, 4, 8],
    idleWindowMs: 10_000,
    microMs: 500,
    budgetMs: 40 * 60_000,
  },
};
