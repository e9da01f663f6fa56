// Writes ts/js samples into this package (so `@wsproxy/*` resolve through its workspace dependencies) and
// typechecks them all in one strict `tsc --noEmit` program.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { type Block, repoRoot, toolRoot } from './extract.js';

/** Where samples are written, one folder per user (the test files run in parallel). */
export const samplesRoot = join(toolRoot, '.samples');
const require = createRequire(import.meta.url);

export const isScript = (block: Block) =>
  ['ts', 'typescript', 'js', 'javascript', 'mjs'].includes(block.lang);
const extensionOf = (block: Block) => (block.lang.startsWith('t') ? 'ts' : 'mjs');

export interface WrittenSample {
  readonly block: Block;
  readonly path: string;
  /** Lines of hidden prelude before the sample's first line. */
  readonly preludeLines: number;
}

/** The file name a block gets, stable and readable: `packages-proxy-client-README-L16.ts`. */
export function sampleName(block: Block, suffix = ''): string {
  return `${block.file.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-')}-L${block.line}${suffix}.${extensionOf(block)}`;
}

/** A sample's source: its hidden prelude (if any), then the code exactly as the docs show it. */
export function sampleSource(
  block: Block,
  transform: (code: string) => string = (c) => c,
): { text: string; preludeLines: number } {
  const prelude = block.annotation?.prelude ?? '';
  const preludeLines = prelude === '' ? 0 : prelude.split('\n').length;
  return { text: `${prelude === '' ? '' : `${prelude}\n`}${transform(block.code)}\n`, preludeLines };
}

export function writeSample(
  block: Block,
  dir: string,
  suffix = '',
  transform?: (code: string) => string,
): WrittenSample {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, sampleName(block, suffix));
  const { text, preludeLines } = sampleSource(block, transform);
  writeFileSync(path, text);
  return { block, path, preludeLines };
}

export interface SampleTypeError {
  readonly block: Block;
  /** A line of the markdown file, or of the hidden prelude. */
  readonly where: string;
  readonly message: string;
}

/** Typechecks every sample in one program; returns the errors mapped back to the markdown's lines. */
export function typecheck(
  blocks: Block[],
  samplesDir = join(samplesRoot, 'typecheck'),
): { errors: SampleTypeError[]; checked: number; raw: string } {
  rmSync(samplesDir, { recursive: true, force: true });
  const written = blocks.map((b) => writeSample(b, samplesDir));
  writeFileSync(
    join(samplesDir, 'tsconfig.json'),
    JSON.stringify(
      {
        extends: relative(samplesDir, join(repoRoot, 'tsconfig.base.json')),
        compilerOptions: {
          noEmit: true,
          allowJs: true,
          checkJs: true,
          moduleDetection: 'force',
          declaration: false,
          sourceMap: false,
        },
        files: written.map((w) => relative(samplesDir, w.path)),
      },
      null,
      2,
    ),
  );
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', samplesDir, '--pretty', 'false'], {
    cwd: toolRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const raw = `${result.stdout}${result.stderr}`;
  const errors: SampleTypeError[] = [];
  const byPath = new Map(written.map((w) => [w.path, w]));
  for (const line of raw.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+: .*)$/.exec(line);
    if (!m) continue;
    const sample = byPath.get(join(toolRoot, m[1]!)) ?? byPath.get(m[1]!);
    if (!sample) {
      errors.push({ block: written[0]!.block, where: m[1]!, message: m[4]! });
      continue;
    }
    const lineInFile = Number(m[2]);
    const where =
      lineInFile <= sample.preludeLines
        ? `${sample.block.file}:${sample.block.line} (hidden prelude line ${lineInFile})`
        : `${sample.block.file}:${sample.block.line + lineInFile - sample.preludeLines}`;
    errors.push({ block: sample.block, where, message: m[4]! });
  }
  if (result.status !== 0 && errors.length === 0)
    throw new Error(`tsc failed without diagnostics we could map (exit ${result.status}):\n${raw}`);
  return { errors, checked: written.length, raw };
}
