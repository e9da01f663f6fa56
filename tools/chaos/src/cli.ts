/**
 * `pnpm chaos [--seed N] [--duration S] [--cycles N] [--keep-going]`: one seeded chaos run. Prints the seed first
 * (replay with `--seed`), the schedule, and on failure the first violated invariant; exits 1 on any violation.
 */

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeFault, FAULT_KINDS, type FaultKind } from './faults.js';
import { iso } from './invariants.js';
import { newSeed } from './random.js';
import { runChaos } from './run.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    duration: { type: 'string' },
    cycles: { type: 'string' },
    'keep-going': { type: 'boolean' },
    faults: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`pnpm chaos [--seed N] [--duration SECONDS] [--cycles N] [--keep-going]

  --seed N          replay a run (default: a new seed, printed first)
  --duration S      fault phase budget in seconds (default 120; with start-up and the leak phase the run is about 3 minutes)
  --cycles N        leak phase: client connect/subscribe/close cycles (default 1000; 0 skips it)
  --keep-going      inject the whole schedule even after a violation (default: stop at the first)
  --faults a,b      only these fault kinds (default all: ${FAULT_KINDS.join(', ')})`);
  process.exit(0);
}

function count(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be an integer >= 0, got ${value}`);
    process.exit(2);
  }
  return n;
}

const faults = values.faults?.split(',').map((f) => f.trim()) as FaultKind[] | undefined;
const unknown = faults?.filter((f) => !FAULT_KINDS.includes(f));
if (unknown?.length) {
  console.error(`--faults: unknown kind(s) ${unknown.join(', ')}; known: ${FAULT_KINDS.join(', ')}`);
  process.exit(2);
}
const seed = count('seed', values.seed, newSeed());
const durationS = count('duration', values.duration, 120);
const churnCycles = count('cycles', values.cycles, 1000);
const replay = `pnpm chaos --seed ${seed} --duration ${durationS} --cycles ${churnCycles}${faults ? ` --faults ${faults.join(',')}` : ''}`;
console.log(`chaos seed ${seed} (replay: ${replay})`);

const result = await runChaos({
  seed,
  durationS,
  churnCycles,
  keepGoing: values['keep-going'] === true,
  ...(faults ? { faults } : {}),
  keepLogAs: join(tmpdir(), `wsproxy-chaos-${seed}-${process.pid}-daemon.log`),
  log: (line) => console.log(line),
});

const seconds = (result.elapsedMs / 1000).toFixed(0);
for (const note of result.notes) console.log(`note: ${note}`);
if (result.interrupted) {
  console.log(
    `chaos seed ${seed}: interrupted after ${result.injected} faults (${seconds} s); everything it started is cleaned up`,
  );
  process.exit(130);
}
if (result.violations.length === 0) {
  console.log(
    `chaos seed ${seed}: PASS — ${result.injected} faults injected, every invariant held (${seconds} s)`,
  );
  process.exit(0);
}
console.log(`\nchaos seed ${seed}: FAIL — ${result.violations.length} violation(s) (${seconds} s)`);
console.log(`fault schedule (${result.injected} injected):`);
for (const fault of result.schedule.slice(0, Math.max(result.injected, 1)))
  console.log(`  ${describeFault(fault)}`);
const first = result.violations[0]!;
console.log(`first violated invariant: ${first.invariant} (at ${iso(first.at)})\n      ${first.detail}`);
// The first of every other invariant that failed, then a count: one bug floods one invariant with thousands.
const byInvariant = new Map<string, { first: (typeof result.violations)[number]; count: number }>();
for (const v of result.violations) {
  const entry = byInvariant.get(v.invariant);
  if (entry) entry.count += 1;
  else byInvariant.set(v.invariant, { first: v, count: 1 });
}
console.log('violations by invariant (first of each):');
for (const [invariant, { first: v, count }] of byInvariant) {
  console.log(`  ${count} x ${invariant}; first at ${iso(v.at)}:\n      ${v.detail.slice(0, 2000)}`);
}
console.log(`replay: ${replay}`);
process.exit(1);
