/**
 * The faults and the schedule drawn from the seed. Each fault names its target (a strategy slot where it has one)
 * and how long it lasts; `settleMs` is how long recovery may take before the views must agree.
 */
import type { SeededRandom } from './random.js';

export const FAULT_KINDS = [
  'daemon-sigkill',
  'client-sigkill',
  'client-sigstop',
  'upstream-abrupt-close',
  'upstream-half-dead',
  'upstream-429-on-reconnect',
  'upstream-406-on-reconnect',
  'upstream-402-on-reauth',
  'slow-endpoint-reader',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  readonly n: number;
  readonly kind: FaultKind;
  /** Strategy slot, for faults aimed at one process. */
  readonly slot?: number;
  /** How long the fault lasts (stop, stall, refusal window), ms. */
  readonly holdMs: number;
  /** How many auths are refused (406/402). */
  readonly count?: number;
  /** Churn before the fault, ms. */
  readonly churnMs: number;
}

/** Recovery bound after a fault ends: 5 s, more where the fault itself makes the daemon wait (backoff, refusals). */
export function settleBoundMs(fault: Fault): number {
  switch (fault.kind) {
    case 'upstream-429-on-reconnect':
    case 'upstream-406-on-reconnect':
    case 'upstream-402-on-reauth':
      return 8000;
    default:
      return 5000;
  }
}

export interface Slots {
  readonly shm: readonly number[];
  readonly endpoint: readonly number[];
}

/**
 * Faults until `budgetMs` of churn + hold + settle is used. Kinds come from shuffled bags, so every kind appears
 * once before any appears twice: even a short run meets each fault.
 */
export function drawSchedule(
  random: SeededRandom,
  slots: Slots,
  budgetMs: number,
  kinds: readonly FaultKind[] = FAULT_KINDS,
): Fault[] {
  const faults: Fault[] = [];
  let bag: FaultKind[] = [];
  let used = 0;
  const all = [...slots.shm, ...slots.endpoint];
  while (used < budgetMs) {
    if (bag.length === 0) bag = random.shuffle(kinds);
    const kind = bag.shift() as FaultKind;
    const churnMs = random.int(2000, 5000);
    const base = { n: faults.length + 1, kind, churnMs };
    let fault: Fault;
    switch (kind) {
      case 'client-sigkill':
        fault = { ...base, slot: random.pick(all), holdMs: random.int(200, 1000) };
        break;
      case 'client-sigstop':
        fault = { ...base, slot: random.pick(all), holdMs: random.int(1000, 3000) };
        break;
      case 'slow-endpoint-reader':
        fault = { ...base, slot: random.pick(slots.endpoint), holdMs: random.int(2000, 4000) };
        break;
      case 'upstream-half-dead':
        // Past the daemon's ping interval + pong timeout (1.5 s + 1 s) and then some, so it must notice.
        fault = { ...base, holdMs: random.int(4000, 5000) };
        break;
      case 'upstream-429-on-reconnect':
        fault = { ...base, holdMs: random.int(1000, 3000) };
        break;
      case 'upstream-406-on-reconnect':
        fault = { ...base, holdMs: 0, count: random.int(1, 4) };
        break;
      case 'upstream-402-on-reauth':
        fault = { ...base, holdMs: 0, count: 1 };
        break;
      default:
        fault = { ...base, holdMs: 0 };
    }
    faults.push(fault);
    used += churnMs + fault.holdMs + settleBoundMs(fault) / 2;
  }
  return faults;
}

export function describeFault(f: Fault): string {
  const parts = [`#${f.n} ${f.kind}`];
  if (f.slot !== undefined) parts.push(`slot ${f.slot}`);
  if (f.holdMs) parts.push(`hold ${f.holdMs} ms`);
  if (f.count !== undefined) parts.push(`x${f.count}`);
  return `${parts.join(' ')} (after ${f.churnMs} ms churn)`;
}
