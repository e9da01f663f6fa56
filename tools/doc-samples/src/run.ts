// Runs a `run` sample with tsx against real parts: the Alpaca mock, a private wsproxy runtime folder and the
// daemon the sample spawns itself. Options of `<!-- sample: run ... -->`:
//   until="REGEX"   (repeatable) the output that proves the sample works; required
//   signal=SIGTERM  after `until`: send this and require exit code 0 (the sample's own shutdown path);
//                   without it the sample is long-running (a `for await` loop) and is killed once `until` matched
//   exit=0          the sample ends by itself with this code after printing `until`
//   timeout=20      seconds allowed for `until`
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Block, toolRoot } from './extract.js';
import { samplesRoot, writeSample } from './samples.js';
import type { World } from './world.js';

const require = createRequire(import.meta.url);
const tsx = require.resolve('tsx');

/** Alpaca's real hosts named in samples that are run go to the mock instead. */
export function pointAtMock(code: string, mockUrl: string): string {
  return code
    .replaceAll('wss://stream.data.alpaca.markets', mockUrl)
    .replaceAll('wss://paper-api.alpaca.markets', mockUrl);
}

export interface RunResult {
  readonly ok: boolean;
  readonly detail: string;
}

export async function runSample(block: Block, world: World): Promise<RunResult> {
  const options = block.annotation?.options ?? {};
  const until = (options.until ?? []).map((u) => new RegExp(u, 'm'));
  if (until.length === 0)
    return { ok: false, detail: 'a run sample needs until="<regex of its real output>"' };
  const timeoutMs = Number(options.timeout?.[0] ?? 20) * 1000;
  const sample = writeSample(block, join(samplesRoot, 'run'), '', (code) =>
    pointAtMock(code, world.mock.url),
  );
  const child = world.watch(sample.path, [], { cwd: toolRoot, nodeArgs: ['--import', tsx] });
  try {
    await child.waitFor(until, timeoutMs);
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
  const firstLine = (
    child
      .stdout()
      .split('\n')
      .find((l) => until.some((u) => u.test(l))) ?? ''
  ).slice(0, 80);
  if (options.exit) {
    const { code, signal } = await Promise.race([
      child.exited,
      new Promise<{ code: null; signal: NodeJS.Signals }>((r) =>
        setTimeout(() => r({ code: null, signal: 'SIGKILL' }), timeoutMs),
      ),
    ]);
    if (String(code) !== options.exit[0])
      return {
        ok: false,
        detail: `exited ${code ?? signal}, expected ${options.exit[0]}: ${child.stderr()}`,
      };
    return { ok: true, detail: `printed "${firstLine}", exited ${code}` };
  }
  if (options.signal) {
    const signal = options.signal[0] as NodeJS.Signals;
    const { code } = await child.stop(signal, 10_000);
    if (code !== 0) return { ok: false, detail: `after ${signal}: exit ${code}, stderr: ${child.stderr()}` };
    return { ok: true, detail: `printed "${firstLine}", exited 0 on ${signal}` };
  }
  await child.stop('SIGKILL', 1000);
  if (child.stderr().trim() !== '') return { ok: false, detail: `wrote to stderr: ${child.stderr()}` };
  return { ok: true, detail: `printed "${firstLine}" (long-running: stopped after that)` };
}
