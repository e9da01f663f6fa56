// What a suite is: a name, a check that says why it cannot run (its package has not landed, or lacks the API),
// and a run that records rows. Suites never throw for an unmet target; they throw only when something broke.
import type { Mode, ModeParams } from '../config.js';
import type { Budget } from './budget.js';
import type { Recorder } from './recorder.js';

export interface SuiteContext {
  mode: Mode;
  params: ModeParams;
  rec: Recorder;
  budget: Budget;
  /** A private (0700) temp folder for this session's socket files. */
  dir: string;
  log(message: string): void;
}

export interface Suite {
  name: string;
  /** One line for the results page: what the suite measures. */
  measures: string;
  /** Undefined when the suite can run; otherwise the reason it cannot ("@wsproxy/x has not landed"). */
  unavailable(): Promise<string | undefined>;
  run(ctx: SuiteContext): Promise<void>;
}

/** Tries to import a workspace package; returns its exports or the reason it cannot be used. */
export async function importPackage(
  name: string,
): Promise<{ mod: Record<string, unknown> } | { reason: string }> {
  try {
    const mod = (await import(name)) as Record<string, unknown>;
    return { mod };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { reason: `${name} cannot be imported (${message})` };
  }
}

/** Formats a number of units per second compactly for logs. */
export function fmtRate(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(1);
}
