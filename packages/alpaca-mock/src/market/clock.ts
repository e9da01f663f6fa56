/**
 * The synthetic clock. Market time advances by a fixed `tickNs` per tick, never by the wall clock, so the same
 * seed and subscriptions yield the same timestamps. Every event's time is its tick's time plus a small seeded
 * offset below one tick: `tickOf(t)` recovers the tick (the sequence) from any timestamp.
 */
import { NanoTime } from '../time.js';

export class SyntheticClock {
  readonly start: NanoTime;
  readonly tickNs: number;
  /** The last tick generated; -1 before the first. */
  tick = -1;

  constructor(start: Date, tickMs: number) {
    this.start = NanoTime.fromMillis(start.getTime());
    this.tickNs = Math.max(1, Math.round(tickMs * 1e6));
  }

  /** Start of tick `tick`. */
  timeOf(tick: number): NanoTime {
    return this.start.plusNanos(tick * this.tickNs);
  }

  /** Market time now: the start of the last generated tick (the start time before any). */
  now(): NanoTime {
    return this.timeOf(Math.max(0, this.tick));
  }

  /** The tick an event timestamp belongs to. */
  tickOf(time: NanoTime | string): number {
    const t = typeof time === 'string' ? NanoTime.parse(time) : time;
    return Math.floor(t.nanosSince(this.start) / this.tickNs);
  }
}

const NS_PER_MINUTE = 60e9;
const NS_PER_DAY = 86_400e9;

/** Index of the UTC minute a time falls in (minutes since the epoch). */
export function minuteIndex(t: NanoTime): number {
  return Math.floor(t.sec / 60);
}

export function minuteStart(index: number): NanoTime {
  return new NanoTime(index * 60, 0);
}

export function dayStart(t: NanoTime): NanoTime {
  return new NanoTime(Math.floor(t.sec / 86_400) * 86_400, 0);
}

export { NS_PER_DAY, NS_PER_MINUTE };
