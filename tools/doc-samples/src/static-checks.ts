// Checks that need no process of their own: a block's kind fits its language, `tested-by` names a test that really
// holds (or reads) the sample, a CLI synopsis names only real flags, a folder listing names only real paths.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { type Block, normaliseWhitespace, repoRoot } from './extract.js';
import { isScript } from './samples.js';
import { bins } from './world.js';

export interface Verdict {
  readonly ok: boolean;
  readonly detail: string;
}

const SHELL = ['sh', 'bash', 'shell', 'console', ''];

/** Whether the block's kind can apply to its language at all. */
export function kindFits(block: Block): Verdict {
  const kind = block.annotation!.kind;
  if ((kind === 'run' || kind === 'typecheck') && !isScript(block))
    return { ok: false, detail: `${kind} needs a ts or js block, not "${block.lang}"` };
  if (kind === 'shell' && !SHELL.includes(block.lang))
    return { ok: false, detail: `shell needs an sh block, not "${block.lang}"` };
  if (kind === 'tested-by' && !block.annotation!.args[0])
    return { ok: false, detail: 'tested-by needs a test file path' };
  if (block.annotation!.prelude !== '' && kind !== 'run' && kind !== 'typecheck')
    return { ok: false, detail: 'only run and typecheck samples take a hidden prelude' };
  return { ok: true, detail: '' };
}

/**
 * `tested-by <test file>`: the test exists and holds the sample verbatim (whitespace-normalised: the whole block, or
 * every line of it); `via=<file>`: the sample is verbatim in that file and the test names it; `reads-doc`: the test
 * reads this markdown file and extracts the block itself.
 */
export function testedBy(block: Block): Verdict {
  const annotation = block.annotation!;
  const test = annotation.args[0]!;
  const testPath = join(repoRoot, test);
  if (!existsSync(testPath)) return { ok: false, detail: `${test} does not exist` };
  const testText = readFileSync(testPath, 'utf8');
  const holds = (text: string) => {
    const whole = normaliseWhitespace(text);
    if (whole.includes(normaliseWhitespace(block.code))) return true;
    const lines = block.code
      .split('\n')
      .map(normaliseWhitespace)
      .filter((l) => l !== '');
    return lines.every((l) => whole.includes(l));
  };
  const via = annotation.options.via?.[0];
  if (via) {
    const viaPath = join(repoRoot, via);
    if (!existsSync(viaPath)) return { ok: false, detail: `${via} does not exist` };
    if (!holds(readFileSync(viaPath, 'utf8')))
      return { ok: false, detail: `the sample is not verbatim in ${via}` };
    const stem = basename(via, extname(via));
    if (!testText.includes(stem)) return { ok: false, detail: `${test} does not name ${stem}` };
    return { ok: true, detail: `verbatim in ${via}, which ${basename(test)} runs` };
  }
  if (annotation.args.includes('reads-doc') || annotation.options['reads-doc']) {
    if (!testText.includes(basename(block.file)))
      return { ok: false, detail: `${test} does not read ${basename(block.file)}` };
    if (!/readFileSync|readFile\(/.test(testText)) return { ok: false, detail: `${test} reads no file` };
    return { ok: true, detail: `${basename(test)} extracts it from ${basename(block.file)}` };
  }
  if (!holds(testText)) return { ok: false, detail: `the sample is not verbatim in ${test}` };
  return { ok: true, detail: `verbatim in ${test}` };
}

/** `usage`: every `wsproxy <command>` and every flag of a CLI synopsis is in `wsproxy --help`. */
export function usage(block: Block): Verdict {
  const r = spawnSync(process.execPath, [bins.wsproxy!, '--help'], { encoding: 'utf8', timeout: 15_000 });
  const help = r.stdout;
  const flags = [...block.code.matchAll(/(?<![\w-])(--?[a-zA-Z][\w-]*)/g)].map((m) => m[1]!);
  const commands = [...block.code.matchAll(/^wsproxy\s+([a-z]+)/gm)].map((m) => m[1]!);
  const missing = [
    ...new Set([
      ...flags.filter((f) => !new RegExp(`(^|[\\s,])${f}\\b`).test(help)),
      ...commands.filter((c) => !new RegExp(`^\\s+${c}\\s`, 'm').test(help)),
    ]),
  ];
  if (r.status !== 0 || missing.length > 0)
    return { ok: false, detail: `not in wsproxy --help: ${missing.join(' ')}` };
  return {
    ok: true,
    detail: `${commands.length} commands and ${new Set(flags).size} flags, all in wsproxy --help`,
  };
}

/** `tree [base=<folder>]`: every path of an indented listing exists (a name ending in / is a folder). */
export function tree(block: Block): Verdict {
  const base = join(repoRoot, block.annotation!.options.base?.[0] ?? dirname(block.file));
  const stack: { indent: number; path: string }[] = [];
  const missing: string[] = [];
  let count = 0;
  for (const line of block.code.split('\n')) {
    const m = /^(\s*)(\S+)/.exec(line);
    if (!m) continue;
    const indent = m[1]!.length;
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    const path = join(stack.at(-1)?.path ?? '', m[2]!);
    count++;
    if (!existsSync(join(base, path))) missing.push(path);
    if (m[2]!.endsWith('/')) stack.push({ indent, path });
  }
  if (missing.length > 0) return { ok: false, detail: `missing under ${base}: ${missing.join(', ')}` };
  return { ok: true, detail: `${count} paths exist` };
}
