// `shell` blocks: each command is run in a private world or checked by a rule; see src/shell.ts.
import { describe, expect, it } from 'vitest';
import { allBlocks, where } from '../src/extract.js';
import { assertNoFailures, table } from '../src/report.js';
import { checkShellBlock } from '../src/shell.js';

const blocks = allBlocks().filter((b) => b.annotation?.kind === 'shell');

describe('shell blocks', () => {
  it('there are shell blocks', () => expect(blocks.length).toBeGreaterThan(0));
  for (const block of blocks) {
    it(where(block), async () => {
      const results = await checkShellBlock(block);
      const rows = results.map((r) => ({
        where: r.where,
        kind: r.command.slice(0, 40),
        status: r.status,
        detail: r.detail,
      }));
      console.log(table(rows));
      expect(results.length).toBeGreaterThan(0);
      assertNoFailures(rows);
    }, 90_000);
  }
});
