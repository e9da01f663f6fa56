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

describe('fragment loss accounting', () => {
  it('under random loss every message is either delivered intact or counted lost, never corrupted', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 50 }),
        (sizes, dropPattern) => {
          const losses: FragmentLoss[] = [];
          const assembler = new FragmentAssembler({ onLoss: (loss) => losses.push(loss) });
          const messages = sizes.map((size, m) =>
            Uint8Array.from({ length: size }, (_, i) => (i * 31 + m) & 0xff),
          );
          const delivered: Uint8Array[] = [];
          let k = 0;
          const touched = new Set<number>();
          for (let m = 0; m < messages.length; m++) {
            for (const record of records(1, messages[m]!, 120, m)) {
              // Records are lost in a pattern; a lost record of a multi-record message makes that message lost.
              const lose = dropPattern[k++ % dropPattern.length]!;
              if (lose) {
                touched.add(m);
                continue;
              }
              const out = assembler.push(record);
              if (out) delivered.push(out.slice());
            }
          }
          assembler.discard(); // the stream ended: what is in progress is lost, and said to be
          for (const out of delivered) expect(messages).toContainEqual(out);
          const lostIds = new Set(losses.map((l) => l.messageId));
          const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
          for (let m = 0; m < messages.length; m++) {
            const message = messages[m]!;
            const arrived = delivered.some((d) => same(d, message));
            if (!touched.has(m)) expect(arrived).toBe(true);
            // A message that lost a record is never delivered (checked where its bytes are unique among the
            // messages): either nothing of it arrived (the ring's gap event covers that) or it is counted lost.
            const unique = messages.every((other, j) => j === m || !same(other, message));
            if (touched.has(m) && unique) expect(arrived).toBe(false);
          }
          for (const id of lostIds) expect(touched.has(id)).toBe(true);
          expect(assembler.lostMessages).toBe(losses.length);
          expect(assembler.pendingBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
