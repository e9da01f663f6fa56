// Finds every fenced code block of the docs and the `<!-- sample: ... -->` annotation that classifies it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is tools/doc-samples/src/extract.ts). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** This package's folder: samples are written inside it so `@wsproxy/*` imports resolve through its dependencies. */
export const toolRoot = fileURLToPath(new URL('../', import.meta.url));

/** Every documentation file in scope, relative to the repository root. */
export function docFiles(root = repoRoot): string[] {
  const files = [
    'README.md',
    'CONTRIBUTING.md',
    'packages/protocol/PROTOCOL.md',
    'packages/shm-queue/LAYOUT.md',
  ];
  const mdIn = (dir: string) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .filter((f) => f.endsWith('.md'))
          .map((f) => `${dir}/${f}`)
      : [];
  const readmesUnder = (dir: string) =>
    existsSync(join(root, dir))
      ? readdirSync(join(root, dir))
          .map((d) => `${dir}/${d}/README.md`)
          .filter((f) => existsSync(join(root, f)))
      : [];
  files.push(...mdIn('docs'), ...readmesUnder('packages'), ...readmesUnder('apps'), ...readmesUnder('tools'));
  if (existsSync(join(root, 'benchmarks/README.md'))) files.push('benchmarks/README.md');
  return [...new Set(files)].filter((f) => existsSync(join(root, f))).sort();
}

/** Classifications a block can carry. */
export const KINDS = [
  'run', // ts/js: typechecked, then run with tsx against the mock and a private daemon
  'typecheck', // ts/js: typechecked (strict) only, e.g. code that needs a real vendor or is a fragment
  'shell', // sh: every command line is run, or checked by a rule (see shell.ts)
  'tested-by', // exercised by a named test file of the repository
  'endpoint-urls', // an official-SDK snippet: every ws:// URL it names is served by the drop-in endpoint
  'usage', // a CLI synopsis: every command and flag it names is in the CLI's --help
  'tree', // a folder listing: every path it names exists
  'diagram', // illustrations, not code
  'layout',
  'output',
] as const;
export type Kind = (typeof KINDS)[number];

export interface Annotation {
  readonly kind: Kind;
  /** Positional arguments (e.g. the test file of `tested-by`). */
  readonly args: string[];
  /** `key=value` options; a key may repeat. */
  readonly options: Record<string, string[]>;
  /** Code lines of the comment after its first line: declarations the fragment needs, not shown to readers. */
  readonly prelude: string;
}

export interface Block {
  /** Relative to the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  /** Other HTML comments right above the fence (e.g. `demo-command`, `test-command`). */
  readonly markers: string[];
  readonly annotation: Annotation | null;
  /** Why the annotation could not be read, when it could not. */
  readonly annotationError?: string;
}

export const where = (block: Pick<Block, 'file' | 'line'>) => `${block.file}:${block.line}`;

/** Splits on whitespace, keeping "double" or 'single' quoted parts together (the quotes removed). */
function tokens(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g))
    out.push(m[0].replace(/"([^"]*)"|'([^']*)'/g, '$1$2'));
  return out;
}

export function parseAnnotation(comment: string): Annotation | string {
  const body = comment.replace(/^sample:\s*/, '');
  const [first = '', ...rest] = body.split('\n');
  const [kind, ...parts] = tokens(first);
  if (!KINDS.includes(kind as Kind))
    return `unknown sample kind ${JSON.stringify(kind)} (one of ${KINDS.join(', ')})`;
  const args: string[] = [];
  const options: Record<string, string[]> = {};
  for (const part of parts) {
    const eq = /^([a-z][a-z-]*)=(.*)$/s.exec(part);
    if (eq) options[eq[1]!] = [...(options[eq[1]!] ?? []), eq[2]!];
    else args.push(part);
  }
  return { kind: kind as Kind, args, options, prelude: rest.join('\n').replace(/\s+$/, '') };
}

export function extractBlocks(file: string, root = repoRoot): Block[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '```', lang = ''] = open;
    const start = i;
    const code: string[] = [];
    for (i++; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trimStart().startsWith(fence) && line.trim().replace(/[`~]/g, '') === '') break;
      code.push(line.startsWith(indent) ? line.slice(indent.length) : line);
    }
    // The HTML comments directly above the fence, nearest first.
    const comments: string[] = [];
    let j = start - 1;
    while (j >= 0 && lines[j]!.trim().endsWith('-->')) {
      let k = j;
      while (k >= 0 && !lines[k]!.includes('<!--')) k--;
      if (k < 0) break;
      const text = lines
        .slice(k, j + 1)
        .join('\n')
        .replace(/^\s*<!--\s*/, '')
        .replace(/\s*-->\s*$/, '');
      comments.push(text);
      j = k - 1;
    }
    const sample = comments.filter((c) => c.startsWith('sample:'));
    const markers = comments.filter((c) => !c.startsWith('sample:'));
    let annotation: Annotation | null = null;
    let annotationError: string | undefined;
    if (sample.length > 1) annotationError = 'more than one <!-- sample: --> comment';
    else if (sample.length === 1) {
      const parsed = parseAnnotation(sample[0]!);
      if (typeof parsed === 'string') annotationError = parsed;
      else annotation = parsed;
    }
    blocks.push({
      file: relative(root, join(root, file)),
      line: start + 1,
      lang,
      code: code.join('\n'),
      markers,
      annotation,
      ...(annotationError ? { annotationError } : {}),
    });
  }
  return blocks;
}

export function allBlocks(root = repoRoot): Block[] {
  return docFiles(root).flatMap((f) => extractBlocks(f, root));
}

/** Lines joined with single spaces, for "appears verbatim" checks that ignore indentation and wrapping. */
export function normaliseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
