/**
 * The run's only source of randomness: everything drawn from the seed (the fault schedule, which process churns
 * what) is the same on a replay. Timing on a loaded machine is not, which is why a failure prints the schedule too.
 */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: small, fast and good enough to pick faults; never used for anything secret. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A random subset of 1..max distinct items. */
  some<T>(items: readonly T[], max: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    const n = this.int(1, Math.min(max, pool.length));
    while (out.length < n) out.push(...pool.splice(Math.floor(this.next() * pool.length), 1));
    return out;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }

  /** A derived stream for one consumer, so adding draws in one place does not shift another's. */
  fork(label: string): SeededRandom {
    let h = this.seed ^ 0x9e3779b9;
    for (const c of label) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
    return new SeededRandom(h >>> 0);
  }
}

/** A fresh seed for a run nobody asked to replay. */
export function newSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
