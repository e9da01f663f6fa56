// `run` samples run with tsx against the mock, a private runtime folder and the daemon they spawn; afterwards every
// daemon is stopped and no ring segment may be left in /dev/shm.
import { describe, expect, it } from 'vitest';
import { allBlocks, where } from '../src/extract.js';
import { assertNoFailures, table } from '../src/report.js';
import { runSample } from '../src/run.js';
import { World } from '../src/world.js';

const samples = allBlocks().filter((b) => b.annotation?.kind === 'run');

describe('run samples', () => {
  it('there are samples to run', () => expect(samples.length).toBeGreaterThan(0));
  for (const block of samples) {
    it(where(block), async () => {
      const world = await World.create();
      let result: { ok: boolean; detail: string } | undefined;
      try {
        result = await runSample(block, world);
      } finally {
        const problems = await world.close();
        // Keep what the run itself said: a leftover is often the consequence of a failed run, not the cause.
        if (problems.length > 0)
          result = {
            ok: false,
            detail: [result?.ok ? '' : result?.detail, ...problems].filter(Boolean).join('\n'),
          };
      }
      const row = {
        where: where(block),
        kind: 'run',
        status: result!.ok ? 'ok' : 'FAIL',
        detail: result!.detail,
      };
      console.log(table([row]));
      assertNoFailures([row]);
    }, 60_000);
  }
});
