import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, RecipientSet } from '../src/index.js';

describe('RecipientSet', () => {
  it('behaves like a Set of slot numbers under any sequence of adds and deletes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 2000 })), { maxLength: 200 }),
        (ops) => {
          const set = new RecipientSet();
          const model = new Set<number>();
          for (const [add, slot] of ops) {
            expect(add ? set.add(slot) : set.delete(slot)).toBe(add ? !model.has(slot) : model.has(slot));
            if (add) model.add(slot);
            else model.delete(slot);
          }
          expect(set.size).toBe(model.size);
          expect(set.slots()).toEqual([...model].sort((a, b) => a - b));
          expect(set.maxSlot).toBe(model.size ? Math.max(...model) : -1);
          for (const slot of model) expect(set.has(slot)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses slots outside 0..65535', () => {
    const set = new RecipientSet();
    expect(() => set.add(-1)).toThrow(InvalidArgumentError);
    expect(() => set.add(65536)).toThrow(InvalidArgumentError);
    expect(set.add(65535)).toBe(true);
    expect([...set]).toEqual([65535]);
    set.clear();
    expect(set.size).toBe(0);
  });
});
