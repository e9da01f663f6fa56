// Every ts/js sample (`run` and `typecheck`) typechecks in one strict program, with its hidden prelude if any.
import { expect, it } from 'vitest';
import { allBlocks, where } from '../src/extract.js';
import { assertNoFailures, type Row } from '../src/report.js';
import { typecheck } from '../src/samples.js';

it('every run/typecheck sample typechecks (tsc --noEmit, strict)', () => {
  const samples = allBlocks().filter(
    (b) => b.annotation?.kind === 'run' || b.annotation?.kind === 'typecheck',
  );
  expect(samples.length).toBeGreaterThan(0);
  const { errors, checked } = typecheck(samples);
  const rows: Row[] = errors.map((e) => ({
    where: e.where,
    kind: e.block.annotation!.kind,
    status: 'FAIL',
    detail: e.message,
  }));
  console.log(`typechecked ${checked} samples: ${samples.map(where).join(', ')}`);
  assertNoFailures(rows);
}, 120_000);
