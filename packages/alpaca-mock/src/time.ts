import { InvalidOptionError } from './errors.js';

/**
 * Nanosecond timestamps. Alpaca sends RFC-3339 with nanoseconds in JSON and the msgpack timestamp extension
 * (type -1) in msgpack; a JS Date holds only milliseconds, so the mock carries its own value type.
 */
export class NanoTime {
  /** Seconds since the Unix epoch. */
  readonly sec: number;
  /** 0..999_999_999 */
  readonly nsec: number;

  constructor(sec: number, nsec: number) {
    this.sec = sec;
    this.nsec = nsec;
  }

  static fromMillis(ms: number): NanoTime {
    const sec = Math.floor(ms / 1000);
    return new NanoTime(sec, Math.round((ms - sec * 1000) * 1e6));
  }

  /** Parses RFC-3339 with up to 9 fractional digits (what `toJSON` produces). */
  static parse(text: string): NanoTime {
    const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(String(text));
    const ms = match ? Date.parse(`${match[1]}${match[3]}`) : Number.NaN;
    if (!match || Number.isNaN(ms)) {
      throw new InvalidOptionError('timestamp', `an RFC-3339 timestamp, got ${JSON.stringify(text)}`);
    }
    const nsec = Number((match[2] ?? '').padEnd(9, '0'));
    return new NanoTime(ms / 1000, nsec);
  }

  /** This time plus `ns` nanoseconds (ns must be a safe integer). */
  plusNanos(ns: number): NanoTime {
    const total = this.nsec + ns;
    const carry = Math.floor(total / 1e9);
    return new NanoTime(this.sec + carry, total - carry * 1e9);
  }

  toMillis(): number {
    return this.sec * 1000 + Math.floor(this.nsec / 1e6);
  }

  /** Nanoseconds since `other` (a safe integer for spans up to ~104 days). */
  nanosSince(other: NanoTime): number {
    return (this.sec - other.sec) * 1e9 + (this.nsec - other.nsec);
  }

  /**
   * RFC-3339 in UTC as Alpaca writes it (Go's RFC3339Nano): the fraction only when there is one, without trailing
   * zeros ("2021-02-22T15:51:44.208Z", "2024-03-12T10:38:50.79613221Z").
   */
  toString(): string {
    const base = new Date(this.sec * 1000).toISOString().slice(0, 19);
    if (this.nsec === 0) return `${base}Z`;
    return `${base}.${String(this.nsec).padStart(9, '0').replace(/0+$/, '')}Z`;
  }

  toJSON(): string {
    return this.toString();
  }
}
