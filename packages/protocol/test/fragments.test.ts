// Large messages: split by the daemon into records that fit the ring, reassembled by the reader; losses counted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeRingRecord,
  encodeDataRecord,
  FragmentAssembler,
  type FragmentLoss,
  fragmentPayload,
  InvalidArgumentError,
  maxFragmentPayload,
  RecipientSet,
  type RingRecord,
} from '../src/index.js';

function records(
  connectionId: number,
  message: Uint8Array,
  maxRecordBytes: number,
  messageId: number,
): RingRecord[] {
  const recipients = [1, 2];
  const max = maxFragmentPayload(maxRecordBytes, recipients);
  return [...fragmentPayload(message, max, messageId)].map(({ payload, fragment }) => {
    const bytes = encodeDataRecord({ connectionId, binary: true, recipients, payload, fragment });
    expect(bytes.length).toBeLessThanOrEqual(maxRecordBytes);
    return decodeRingRecord(bytes);
  });
}

describe('fragmentation', () => {
  it('split then reassembled gives the message back, for any size and record size', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.integer({ min: 40, max: 700 }),
        (message, maxRecord) => {
          const assembler = new FragmentAssembler();
          const parts = records(3, message, maxRecord, 9);
          const outputs = parts.map((r) => assembler.push(r));
          expect(outputs.slice(0, -1).every((o) => o === null)).toBe(true);
          expect(outputs.at(-1)).toEqual(message);
          expect(parts[0]!.messageLength).toBe(message.length);
          expect(assembler.pendingBytes).toBe(0);
          expect(assembler.lostMessages).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the fragments report remaining bytes like the original callback did', () => {
    const parts = [...fragmentPayload(new Uint8Array(10), 4, 1)];
    expect(parts.map((p) => p.fragment)).toEqual([
      { messageId: 1, offset: 0, remaining: 6 },
      { messageId: 1, offset: 4, remaining: 2 },
      { messageId: 1, offset: 8, remaining: 0 },
    ]);
    expect([...fragmentPayload(new Uint8Array(4), 4, 1)]).toEqual([
      { payload: new Uint8Array(4), fragment: null },
    ]);
  });

  it('keeps messages of different connections apart', () => {
    const a = Uint8Array.from({ length: 300 }, (_, i) => i);
    const b = Uint8Array.from({ length: 250 }, (_, i) => 255 - (i & 0xff));
    const ra = records(1, a, 100, 1);
    const rb = records(2, b, 100, 1);
    const assembler = new FragmentAssembler();
    const done: Uint8Array[] = [];
    for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
      for (const r of [ra[i], rb[i]]) {
        const out = r && assembler.push(r);
        if (out) done.push(out);
      }
    }
    expect(done).toContainEqual(a);
    expect(done).toContainEqual(b);
  });

  it('a lost fragment drops the message, counts it once and reports it', () => {
    const losses: FragmentLoss[] = [];
    const assembler = new FragmentAssembler({ onLoss: (loss) => losses.push(loss) });
    const first = records(5, new Uint8Array(400).fill(1), 100, 1);
    const second = records(5, new Uint8Array(50).fill(2), 100, 2);
    // Middle fragment lost: the message is dropped, the next message arrives intact.
    for (const r of [first[0]!, first[2]!, ...first.slice(3)]) expect(assembler.push(r)).toBeNull();
    expect(assembler.push(second[0]!)).toEqual(new Uint8Array(50).fill(2));
    expect(assembler.lostMessages).toBe(1);
    expect(losses).toHaveLength(1);
    expect(losses[0]).toMatchObject({ connectionId: 5, messageId: 1, messageLength: 400 });

    // Head lost (the reader was lapped): the tail is dropped and counted as one message.
    for (const r of first.slice(1)) expect(assembler.push(r)).toBeNull();
    expect(assembler.lostMessages).toBe(2);
    expect(losses[1]!.droppedBytes).toBe(400 - first[0]!.payload.length);
  });

  it('discard drops what is in progress, e.g. after a gap', () => {
    const assembler = new FragmentAssembler();
    const parts = records(7, new Uint8Array(500), 100, 3);
    assembler.push(parts[0]!);
    assembler.push(parts[1]!);
    const held = assembler.pendingBytes;
    expect(held).toBeGreaterThan(0);
    expect(assembler.discard()).toBe(held);
    expect(assembler.pendingBytes).toBe(0);
    expect(assembler.lostBytes).toBe(held);
  });

  it('refuses record sizes that cannot hold a payload', () => {
    expect(() => maxFragmentPayload(24, RecipientSet.from([1]))).toThrow(InvalidArgumentError);
    expect(maxFragmentPayload(100, [])).toBe(76);
  });
});
