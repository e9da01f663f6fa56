import { describe, expect, it } from 'vitest';
import { MovingAverageCrossover } from '../src/crossover.js';

/** The obvious O(n·window) definition, to check the rolling one against. */
function naiveSignals(prices: number[], fast: number, slow: number): { index: number; side: string }[] {
  const mean = (end: number, n: number) => prices.slice(end - n + 1, end + 1).reduce((a, b) => a + b, 0) / n;
  const out: { index: number; side: string }[] = [];
  let above: boolean | undefined;
  for (let i = slow - 1; i < prices.length; i++) {
    const f = mean(i, fast);
    const s = mean(i, slow);
    if (f === s) continue;
    if (above !== undefined && f > s !== above) out.push({ index: i, side: f > s ? 'buy' : 'sell' });
    above = f > s;
  }
  return out;
}

describe('MovingAverageCrossover', () => {
  it('signals exactly where the fast average crosses the slow one', () => {
    // A deterministic wave: several crossings both ways.
    const prices = Array.from(
      { length: 400 },
      (_, i) => 100 + 10 * Math.sin(i / 15) + ((i * 7919) % 13) / 10,
    );
    const crossover = new MovingAverageCrossover('AAPL', { fast: 5, slow: 20 });
    const got = prices.flatMap((p, index) => {
      const signal = crossover.update(p);
      return signal ? [{ index, side: signal.side }] : [];
    });
    const expected = naiveSignals(prices, 5, 20);
    expect(expected.length).toBeGreaterThan(4);
    expect(got).toEqual(expected);
  });

  it('stays quiet until the slow window is full', () => {
    const crossover = new MovingAverageCrossover('MSFT', { fast: 2, slow: 4 });
    expect([1, 100, 1].map((p) => crossover.update(p))).toEqual([undefined, undefined, undefined]);
  });

  it('rejects windows that cannot cross', () => {
    expect(() => new MovingAverageCrossover('X', { fast: 5, slow: 5 })).toThrow(RangeError);
    expect(() => new MovingAverageCrossover('X', { fast: 0, slow: 5 })).toThrow(RangeError);
  });
});
