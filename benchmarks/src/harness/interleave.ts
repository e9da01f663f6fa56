// Side-by-side comparison: the product and its baselines take turns within ONE session, in rotating order, so
// machine noise (other processes, thermal state, page cache) hits all of them alike and a ratio means something.
import type { Budget } from './budget.js';

export interface Contender<T> {
  name: string;
  run(): Promise<T>;
}

export interface InterleaveOptions {
  warmup: number;
  runs: number;
  budget?: Budget;
}

/**
 * Runs every contender `warmup` times (results discarded: JIT, caches, connection set-up) and then `runs` times,
 * rotating who goes first each round. Stops early (keeping at least one measured round) when the budget runs out.
 */
export async function interleave<T>(
  contenders: readonly Contender<T>[],
  options: InterleaveOptions,
): Promise<Map<string, T[]>> {
  const out = new Map<string, T[]>(contenders.map((c) => [c.name, []]));
  const rounds = options.warmup + options.runs;
  for (let round = 0; round < rounds; round++) {
    const measured = round >= options.warmup;
    if (measured && round > options.warmup && options.budget?.exhausted()) break;
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(round + i) % contenders.length]!;
      const result = await contender.run();
      if (measured) out.get(contender.name)!.push(result);
    }
  }
  return out;
}
