// Collects rows, skipped suites, errors and chart data during a session; computes summaries, ratios and whether
// each target is met, so suites only hand over raw samples.
import { type TargetId, targetById } from '../targets.js';
import {
  type Better,
  type Chart,
  type NotRun,
  type ResultRow,
  ratioOf,
  type SuiteError,
  type Table,
  targetMet,
} from './results.js';
import { summarize } from './stats.js';

export interface RowInput {
  suite: string;
  case: string;
  subject: string;
  metric: string;
  unit: string;
  better: Better;
  samples: readonly number[];
  baseline?: { name: string; samples: readonly number[] };
  target?: TargetId;
  note?: string;
}

export class Recorder {
  readonly rows: ResultRow[] = [];
  readonly notRun: NotRun[] = [];
  readonly errors: SuiteError[] = [];
  readonly notes: string[] = [];
  readonly charts: Chart[] = [];
  readonly tables: Table[] = [];

  add(input: RowInput): ResultRow | undefined {
    if (input.samples.length === 0) return undefined;
    const summary = summarize(input.samples);
    const row: ResultRow = {
      suite: input.suite,
      case: input.case,
      subject: input.subject,
      metric: input.metric,
      unit: input.unit,
      better: input.better,
      ...summary,
    };
    if (input.baseline && input.baseline.samples.length > 0) {
      const base = summarize(input.baseline.samples);
      row.baseline = { name: input.baseline.name, median: base.median };
      row.ratio = ratioOf(input.better, summary.median, base.median);
    }
    if (input.target) {
      const spec = targetById(input.target);
      row.target = { id: spec.id, on: spec.on, op: spec.op, value: spec.value, met: targetMet(spec, row) };
    }
    if (input.note) row.note = input.note;
    this.rows.push(row);
    return row;
  }

  skip(suite: string, reason: string): void {
    this.notRun.push({ suite, reason });
  }

  error(suite: string, caseName: string, err: unknown): void {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    this.errors.push({ suite, case: caseName, message });
    process.stderr.write(`[bench] ${suite} / ${caseName} failed: ${message}\n`);
    if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  chart(chart: Chart): void {
    this.charts.push(chart);
  }

  table(table: Table): void {
    this.tables.push(table);
  }
}
