// Every fenced block of the docs carries a `<!-- sample: ... -->` classification that fits it; the classifications
// that need no process (tested-by, usage, tree) are verified here. A new, unclassified block fails with file:line.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classificationFailures } from '../src/classify.js';
import { allBlocks, type Block, docFiles, repoRoot, where } from '../src/extract.js';
import { assertNoFailures, type Row, table } from '../src/report.js';
import { testedBy, tree, usage } from '../src/static-checks.js';

const blocks = allBlocks();

describe('doc samples: classification', () => {
  it('finds the docs and their blocks', () => {
    expect(docFiles()).toContain('README.md');
    expect(docFiles()).toContain('docs/drop-in-endpoint.md');
    expect(blocks.length).toBeGreaterThan(50);
  });

  it('every fenced block is classified, with a kind that fits it', () => {
    assertNoFailures(classificationFailures(blocks));
  });

  it("README's test command is what CI runs, and its demo command is the demo that demo.test.ts runs", () => {
    const readme = blocks.filter((b) => b.file === 'README.md');
    for (const marker of ['demo-command', 'test-command']) {
      const block = readme.find((b) => b.markers.includes(marker));
      expect(block?.annotation?.kind, marker).toBe('shell');
    }
    expect(readFileSync(join(repoRoot, '.ci', 'run'), 'utf8')).toContain('<!-- test-command -->');
    // `pnpm demo` -> example-strategy's `demo` script -> dist/demo.js, which test/demo.test.ts runs.
    const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(root.scripts.demo).toContain('--filter @wsproxy/example-strategy run demo');
    const app = JSON.parse(readFileSync(join(repoRoot, 'apps/example-strategy/package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(app.scripts.demo).toBe('node dist/demo.js');
    expect(readFileSync(join(repoRoot, 'apps/example-strategy/test/demo.test.ts'), 'utf8')).toContain(
      "'demo.js'",
    );
  });

  it('summary', () => {
    const byKind = new Map<string, number>();
    for (const b of blocks)
      byKind.set(b.annotation?.kind ?? '(none)', (byKind.get(b.annotation?.kind ?? '(none)') ?? 0) + 1);
    console.log(
      `${blocks.length} blocks in ${docFiles().length} docs: ${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}`,
    );
    expect([...byKind.values()].reduce((a, b) => a + b, 0)).toBe(blocks.length);
  });

  const verify: Record<string, (block: Block) => { ok: boolean; detail: string }> = {
    'tested-by': testedBy,
    usage,
    tree,
  };
  it('tested-by, usage and tree blocks hold', () => {
    const rows: Row[] = [];
    for (const block of blocks) {
      const check = block.annotation && verify[block.annotation.kind];
      if (!check) continue;
      const verdict = check(block);
      rows.push({
        where: where(block),
        kind: block.annotation!.kind,
        status: verdict.ok ? 'ok' : 'FAIL',
        detail: verdict.detail,
      });
    }
    console.log(table(rows));
    assertNoFailures(rows);
  });
});
