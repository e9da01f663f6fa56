// decode(encode(x)) == x for every message, event and record the generators can produce.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ControlMessage,
  ControlStreamDecoder,
  controlFrameLength,
  decodeControlFrame,
  decodeRecordEvent,
  decodeRingRecord,
  encodeControlFrame,
  encodeControlFrameInto,
  encodeDataRecord,
  encodeEventRecord,
  RecipientSet,
} from '../src/index.js';
import { connectionEvent, controlMessage, dataRecord, recipients } from './arbitraries.js';

describe('control messages', () => {
  it('decode(encode(m)) equals m', () => {
    fc.assert(
      fc.property(controlMessage, (m) => {
        const frame = encodeControlFrame(m);
        expect(frame.length).toBe(controlFrameLength(m));
        expect(decodeControlFrame(frame)).toEqual(m);
      }),
      { numRuns: 1000 },
    );
  });

  it('encodes at any offset of a larger buffer and leaves the bytes around it alone', () => {
    fc.assert(
      fc.property(controlMessage, fc.integer({ min: 0, max: 64 }), (m, offset) => {
        const length = controlFrameLength(m);
        const buf = new Uint8Array(offset + length + 8).fill(0xee);
        expect(encodeControlFrameInto(buf, offset, m)).toBe(length);
        expect(buf.subarray(0, offset).every((b) => b === 0xee)).toBe(true);
        expect(buf.subarray(offset + length).every((b) => b === 0xee)).toBe(true);
        expect(decodeControlFrame(buf.subarray(offset, offset + length))).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('a stream of frames and doorbells decodes the same under any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(controlMessage, fc.nat({ max: 2 })), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        (items, cuts) => {
          const parts: Uint8Array[] = [];
          const expected: (ControlMessage | 'bell')[] = [];
          for (const [m, bells] of items) {
            parts.push(encodeControlFrame(m));
            expected.push(m);
            for (let i = 0; i < bells; i++) {
              parts.push(Uint8Array.of(0x07));
              expected.push('bell');
            }
          }
          const stream = Buffer.concat(parts);
          const got: (ControlMessage | 'bell')[] = [];
          const decoder = new ControlStreamDecoder({
            onMessage: (m) => got.push(m),
            onDoorbell: () => got.push('bell'),
          });
          let pos = 0;
          let i = 0;
          while (pos < stream.length) {
            const size = cuts[i++ % cuts.length]!;
            decoder.push(new Uint8Array(stream.subarray(pos, pos + size)));
            pos += size;
          }
          decoder.end();
          expect(decoder.bufferedBytes).toBe(0);
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('ring records', () => {
  it('data records round-trip, whichever recipient encoding the encoder picks', () => {
    fc.assert(
      fc.property(dataRecord, (init) => {
        const record = decodeRingRecord(encodeDataRecord(init));
        expect(record.kind).toBe('data');
        expect(record.connectionId).toBe(init.connectionId);
        expect(record.binary).toBe(init.binary);
        expect(record.payload).toEqual(init.payload);
        expect(record.fragmented).toBe(init.fragment != null);
        if (init.fragment) {
          expect(record.messageId).toBe(init.fragment.messageId);
          expect(record.fragmentOffset).toBe(init.fragment.offset);
          expect(record.remaining).toBe(init.fragment.remaining);
        }
        const want = [...(init.recipients as number[])].sort((a, b) => a - b);
        expect(record.recipientSlots().sort((a, b) => a - b)).toEqual(want);
        for (const slot of want) expect(record.isFor(slot)).toBe(true);
        expect(record.isFor(4096)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('a RecipientSet and the same slots as an array encode to the same record', () => {
    fc.assert(
      fc.property(recipients, fc.uint8Array({ maxLength: 16 }), (slots, payload) => {
        const fromArray = encodeDataRecord({ connectionId: 1, binary: true, recipients: slots, payload });
        const fromSet = encodeDataRecord({
          connectionId: 1,
          binary: true,
          recipients: RecipientSet.from(slots),
          payload,
        });
        expect(
          decodeRingRecord(fromSet)
            .recipientSlots()
            .sort((a, b) => a - b),
        ).toEqual(
          decodeRingRecord(fromArray)
            .recipientSlots()
            .sort((a, b) => a - b),
        );
        expect(fromSet.length).toBe(fromArray.length);
      }),
      { numRuns: 500 },
    );
  });

  it('event records round-trip', () => {
    fc.assert(
      fc.property(connectionEvent, recipients, (event, slots) => {
        const record = decodeRingRecord(encodeEventRecord(event, slots));
        expect(record.kind).toBe('event');
        expect(decodeRecordEvent(record)).toEqual(event);
        for (const slot of slots) expect(record.isFor(slot)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
