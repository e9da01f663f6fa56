// Writes a session's results. Full runs produce the committed artefacts (benchmarks/results/latest.json,
// docs/benchmarks.md and its chart); quick runs (CI) write benchmarks/results/quick.* which git ignores, so a CI
// run never dirties the checkout — unless asked with --write-docs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mode } from '../config.js';
import type { Recorder } from '../harness/recorder.js';
import type { BenchReport, MachineInfo } from '../harness/results.js';
import type { Suite } from '../harness/suite.js';
import { targets } from '../targets.js';
import { type ChartFile, renderMarkdown } from './markdown.js';
import { renderChart } from './svg-chart.js';

const packageDir = fileURLToPath(new URL('../../', import.meta.url));
const repoDir = join(packageDir, '..');

const loadAtStart = loadavg();

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    model: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    totalMemoryBytes: totalmem(),
    loadavg: loadAtStart,
    date: new Date().toISOString(),
  };
}

export interface WriteOptions {
  mode: Mode;
  writeDocs: boolean;
  durationMs: number;
  suites: readonly Suite[];
}

function write(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return relative(repoDir, path);
}

/** Writes the JSON, the page and its charts; returns the paths written (relative to the repo). */
export function writeReport(rec: Recorder, options: WriteOptions): string[] {
  const report: BenchReport = {
    mode: options.mode,
    machine: machineInfo(),
    durationMs: options.durationMs,
    results: rec.rows,
    targets: [...targets],
    notRun: rec.notRun,
    errors: rec.errors,
    notes: rec.notes,
    charts: rec.charts,
    tables: rec.tables,
  };
  const written: string[] = [];
  const resultsDir = join(packageDir, 'results');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const official = options.writeDocs;
  written.push(write(join(resultsDir, official ? 'latest.json' : 'quick.json'), json));

  const mdPath = official ? join(repoDir, 'docs', 'benchmarks.md') : join(resultsDir, 'quick.md');
  const charts: ChartFile[] = report.charts.map((chart) => {
    const svgPath = official
      ? join(repoDir, 'docs', `benchmarks-${chart.id}.svg`)
      : join(resultsDir, `quick-${chart.id}.svg`);
    written.push(write(svgPath, renderChart(chart)));
    return { id: chart.id, title: chart.title, href: relative(dirname(mdPath), svgPath) };
  });
  let md = renderMarkdown(report, options.suites, charts);
  if (!official)
    md = md.replace(
      '[benchmarks/results/latest.json](../benchmarks/results/latest.json)',
      '[quick.json](quick.json)',
    );
  written.push(write(mdPath, md));
  return written;
}
