// The result model written to results/*.json and rendered into docs/benchmarks.md.

export type Better = 'higher' | 'lower';

export interface TargetSpec {
  /** Stable id, used to list every target even when its suite did not run. */
  id: string;
  suite: string;
  description: string;
  /** Which issue named it. */
  source: string;
  /** The target applies to the row's median or to its ratio against the baseline. */
  on: 'median' | 'ratio';
  op: '>=' | '<=';
  value: number;
  unit: string;
}

export interface ResultRow {
  suite: string;
  case: string;
  /** What was measured: the product component or the baseline's name. */
  subject: string;
  metric: string;
  unit: string;
  better: Better;
  median: number;
  min: number;
  max: number;
  runs: number;
  baseline?: { name: string; median: number };
  /** How many times better than the baseline (>1 = product better), whichever direction `better` says. */
  ratio?: number;
  target?: { id: string; on: 'median' | 'ratio'; op: '>=' | '<='; value: number; met: boolean };
  note?: string;
}

export interface NotRun {
  suite: string;
  reason: string;
}

export interface SuiteError {
  suite: string;
  case: string;
  message: string;
}

export interface MachineInfo {
  cpus: number;
  model: string;
  node: string;
  platform: string;
  arch: string;
  totalMemoryBytes: number;
  loadavg: number[];
  date: string;
}

export interface ChartSeries {
  /** Transport or product, e.g. "shm ring". */
  name: string;
  kind: 'product' | 'baseline';
  points: { k: number; value: number }[];
}

export interface Chart {
  id: string;
  title: string;
  yLabel: string;
  series: ChartSeries[];
}

/** A summary table a suite builds from its own rows (e.g. latency per case, product beside baseline). */
export interface Table {
  id: string;
  title: string;
  header: string[];
  rows: string[][];
}

export interface BenchReport {
  mode: 'quick' | 'full';
  machine: MachineInfo;
  durationMs: number;
  results: ResultRow[];
  targets: TargetSpec[];
  notRun: NotRun[];
  errors: SuiteError[];
  notes: string[];
  charts: Chart[];
  tables: Table[];
}

export function ratioOf(better: Better, product: number, baseline: number): number {
  return better === 'higher' ? product / baseline : baseline / product;
}

export function targetMet(target: TargetSpec, row: Pick<ResultRow, 'median' | 'ratio'>): boolean {
  const value = target.on === 'median' ? row.median : row.ratio;
  if (value === undefined || !Number.isFinite(value)) return false;
  return target.op === '>=' ? value >= target.value : value <= target.value;
}
