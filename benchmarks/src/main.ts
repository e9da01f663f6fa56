// Entry point: `tsx src/main.ts [--quick] [--write-docs] [--only <suite,...>]`.
// Runs the suites in order, then writes the JSON results and the Markdown page (see report/).

import { type Mode, modes } from './config.js';
import { Budget } from './harness/budget.js';
import { privateTempDir, runAllDisposers } from './harness/cleanup.js';
import { Recorder } from './harness/recorder.js';
import type { Suite, SuiteContext } from './harness/suite.js';
import { writeReport } from './report/write.js';
import { suites } from './suites/index.js';

interface Cli {
  mode: Mode;
  writeDocs: boolean;
  only: string[] | undefined;
}

function parseCli(argv: readonly string[]): Cli {
  const cli: Cli = { mode: 'full', writeDocs: false, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') cli.mode = 'quick';
    else if (arg === '--write-docs') cli.writeDocs = true;
    else if (arg === '--only') cli.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else throw new Error(`unknown argument ${arg} (expected --quick, --write-docs, --only <suites>)`);
  }
  // A complete full run is what the docs page is made from; a partial one (--only) writes it only when asked.
  if (cli.mode === 'full' && !cli.only) cli.writeDocs = true;
  return cli;
}

async function runSuite(suite: Suite, ctx: SuiteContext): Promise<void> {
  const reason = await suite.unavailable();
  if (reason) {
    ctx.rec.skip(suite.name, reason);
    ctx.log(`${suite.name}: not run (${reason})`);
    return;
  }
  ctx.log(`${suite.name}: running`);
  try {
    await suite.run(ctx);
  } catch (err) {
    ctx.rec.error(suite.name, '(suite)', err);
  }
}

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  const params = modes[cli.mode];
  const started = Date.now();
  const rec = new Recorder();
  const ctx: SuiteContext = {
    mode: cli.mode,
    params,
    rec,
    budget: new Budget(params.budgetMs),
    dir: privateTempDir('session'),
    log: (message) =>
      process.stdout.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`),
  };
  const selected = suites.filter((suite) => !cli.only || cli.only.includes(suite.name));
  for (const suite of selected) await runSuite(suite, ctx);
  const written = writeReport(rec, {
    mode: cli.mode,
    writeDocs: cli.writeDocs,
    durationMs: Date.now() - started,
    suites: selected,
  });
  for (const path of written) ctx.log(`wrote ${path}`);
  if (rec.errors.length > 0) {
    process.stderr.write(`[bench] ${rec.errors.length} case(s) broke; see above\n`);
    return 1;
  }
  return 0;
}

main()
  .then((code) => {
    runAllDisposers();
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    runAllDisposers();
    process.stderr.write(`[bench] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
