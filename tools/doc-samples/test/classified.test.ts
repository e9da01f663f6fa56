// Every fenced block of the docs carries a `<!-- sample: ... -->` classification that fits it; the classifications
// that need no process (tested-by, usage, tree) are verified here. A new, unclassified block fails with file:line.
import { describe, expect, it } from 'vitest';
import { classificationFailures } from '../src/classify.js';
import { allBlocks, type Block, docFiles, where } from '../src/extract.js';
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

  it('README keeps the markers .ci/run and the demo read, each on a classified shell block', () => {
    const readme = blocks.filter((b) => b.file === 'README.md');
    for (const marker of ['demo-command', 'test-command']) {
      const block = readme.find((b) => b.markers.includes(marker));
      expect(block?.annotation?.kind, marker).toBe('shell');
    }
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
