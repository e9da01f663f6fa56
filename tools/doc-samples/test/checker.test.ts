// The checker itself: what it must reject, it rejects, with the markdown's file:line.
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classificationFailures } from '../src/classify.js';
import { startDaemon } from '../src/endpoint.js';
import { extractBlocks } from '../src/extract.js';
import { samplesRoot, typecheck } from '../src/samples.js';
import { checkShellBlock } from '../src/shell.js';
import { testedBy } from '../src/static-checks.js';
import { World } from '../src/world.js';

const root = mkdtempSync(join(tmpdir(), 'doc-samples-self-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function doc(text: string) {
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'docs', 'x.md'), text);
  return extractBlocks('docs/x.md', root);
}

describe('the checker rejects', () => {
  it('a block without a classification, naming file:line', () => {
    const blocks = doc('# x\n\nSome text.\n\n```ts\nconst a = 1;\n```\n');
    expect(classificationFailures(blocks)).toEqual([
      expect.objectContaining({
        where: 'docs/x.md:5',
        status: 'FAIL',
        detail: expect.stringContaining('unclassified'),
      }),
    ]);
  });

  it('an unknown kind, and a kind that does not fit the language', () => {
    const blocks = doc('<!-- sample: runn -->\n```ts\nx\n```\n\n<!-- sample: run -->\n```sh\nls\n```\n');
    const failures = classificationFailures(blocks);
    expect(failures.map((f) => f.where)).toEqual(['docs/x.md:2', 'docs/x.md:7']);
    expect(failures[0]!.detail).toContain('unknown sample kind');
  });

  it('a sample that does not typecheck, at the markdown line of the error', () => {
    const blocks = doc(
      "<!-- sample: typecheck\ndeclare const n: number;\n-->\n```ts\nimport { RingWriter } from '@wsproxy/shm-queue';\n\nRingWriter.craete({ name: String(n) });\n```\n",
    );
    const { errors } = typecheck(blocks, join(samplesRoot, 'self-test'));
    expect(errors.map((e) => e.where)).toEqual(['docs/x.md:7']);
    expect(errors[0]!.message).toContain("Property 'craete' does not exist");
  });

  it('a tested-by whose test does not hold the sample', () => {
    const [block] = doc(
      '<!-- sample: tested-by packages/alpaca-mock/test/readme-example.test.ts -->\n```ts\nconst notInThatTest = 42;\n```\n',
    );
    expect(testedBy(block!)).toEqual({ ok: false, detail: expect.stringContaining('not verbatim') });
  });

  it('shell commands no rule knows, unknown packages and flags the CLI does not have', async () => {
    const [block] = doc(
      '<!-- sample: shell -->\n```sh\nrm -rf /tmp/nothing\nnpm install @wsproxy/no-such-package\nwsproxy start --no-such-flag\nnpx --yes pnpm@1.0.0 install\n```\n',
    );
    const results = await checkShellBlock(block!);
    expect(results.map((r) => [r.where, r.status])).toEqual([
      ['docs/x.md:3', 'fail'],
      ['docs/x.md:4', 'fail'],
      ['docs/x.md:5', 'fail'],
      ['docs/x.md:6', 'fail'],
    ]);
    expect(results[0]!.detail).toBe('no rule runs or checks this command');
    expect(results[2]!.detail).toContain('--no-such-flag');
  });

  it("a ring segment left in /dev/shm by a daemon of the sample's world", async () => {
    const world = await World.create();
    const daemon = await startDaemon(world, ['start', '--linger', '60000']);
    daemon.child.child.kill('SIGKILL'); // no clean-up: its segment stays
    await daemon.child.exited;
    const problems = await world.close();
    const provoked = /left behind: (.+)$/.exec(problems.join('\n'))?.[1]?.split(', ') ?? [];
    for (const name of provoked) unlinkSync(join('/dev/shm', name)); // this test's own leftover, once seen
    expect(problems).toEqual([
      expect.stringMatching(/^shared-memory segments left behind: wsproxy-\w+-\d+$/),
    ]);
  });
});
