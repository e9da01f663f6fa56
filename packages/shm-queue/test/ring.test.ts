import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type GapInfo, RingReader, RingWriter, Segment, ShmQueueError } from '../src/index.js';
import { Cleanup, shmLeftovers } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const TWO_32 = 2 ** 32;

function payload(sequence: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (sequence * 31 + i * 7) & 0xff;
  return bytes;
}

function open(options: {
  capacity?: number;
  backPressure?: boolean;
  startPosition?: number;
  startSequence?: number;
}) {
  const name = cleanup.name('ring');
  const writer = RingWriter.create({ name, capacity: 4096, ...options });
  cleanup.defer(() => writer.close());
  const gaps: GapInfo[] = [];
  const reader = RingReader.open({ name, onGap: (gap) => gaps.push(gap) });
  cleanup.defer(() => reader.close());
  return { name, writer, reader, gaps };
}

type ReadMode = 'copy' | 'view' | 'poll';

/** Reads everything available with one of the three read paths, as copies. */
function drain(reader: RingReader, mode: ReadMode): Array<{ sequence: number; bytes: Uint8Array }> {
  const out: Array<{ sequence: number; bytes: Uint8Array }> = [];
  if (mode === 'poll') {
    reader.poll((buffer, offset, length, sequence) => {
      out.push({ sequence, bytes: buffer.slice(offset, offset + length) });
    });
    return out;
  }
  for (;;) {
    const record = mode === 'copy' ? reader.tryRead() : reader.tryReadView();
    if (record === null) return out;
    out.push({ sequence: reader.lastSequence, bytes: Uint8Array.from(record) });
  }
}

describe('records in and out', () => {
  it('hands out records in order through every read path, empty ones included', () => {
    const { writer, reader } = open({});
    expect(reader.tryRead()).toBeNull();
    const sizes = [0, 1, 7, 8, 9, 100, writer.maxRecordSize];
    for (const [i, size] of sizes.entries()) expect(writer.write(payload(i, size))).toBe(true);
    const got = drain(reader, 'copy');
    expect(got.map((r) => r.sequence)).toEqual(sizes.map((_, i) => i));
    for (const [i, record] of got.entries()) expect(record.bytes).toEqual(payload(i, sizes[i]!));
    expect(reader.tryRead()).toBeNull();
    expect(reader.hasData()).toBe(false);
  });

  it('rejects a record above maxRecordSize with SHMQ_ERR_RECORD_TOO_LARGE', () => {
    const { writer } = open({ capacity: 8192 });
    expect(writer.maxRecordSize).toBe(8192 / 4 - 8);
    expect(() => writer.write(new Uint8Array(writer.maxRecordSize + 1))).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_RECORD_TOO_LARGE', name: 'RecordTooLargeError' }),
    );
  });

  it('returns false when full in back-pressure mode, and true again once the reader made room', () => {
    const { writer, reader } = open({ backPressure: true });
    const record = new Uint8Array(100); // 112 bytes with header and alignment
    let written = 0;
    while (writer.write(record)) written++;
    // The writer also keeps 8 bytes for the next record's sequence word.
    expect(written).toBe(Math.floor((4096 - 8) / 112));
    // The next record needs the 64 bytes left before the end as padding, so two records must be read first.
    expect(reader.tryRead()).not.toBeNull();
    expect(writer.write(record)).toBe(false);
    expect(reader.tryRead()).not.toBeNull();
    expect(writer.write(record)).toBe(true);
    expect(drain(reader, 'copy')).toHaveLength(written - 1);
  });

  it('a zero-copy view reads as empty after close (the buffer is detached, not freed under it)', () => {
    const { writer, reader } = open({});
    writer.write(payload(1, 64));
    const view = reader.tryReadView()!;
    expect(view.length).toBe(64);
    reader.close();
    expect(view.length).toBe(0);
    expect(view[0]).toBeUndefined();
    expect(() => reader.tryRead()).toThrow(expect.objectContaining({ code: 'SHMQ_ERR_CLOSED' }));
    expect(reader.hasData()).toBe(false);
    expect(reader.verify()).toBe(false);
  });

  // In a child process: before the fix the write through the moved buffer was a segfault.
  it.skipIf(!('transfer' in ArrayBuffer.prototype))(
    'close() keeps the pages mapped when the buffer was transferred away, instead of freeing them under it',
    async () => {
      const child = cleanup.spawn('transferred-buffer.mjs', [cleanup.name('transfer')]);
      const done = await child.next('done');
      expect(done).toEqual({
        event: 'done',
        closeError: {
          code: 'SHMQ_ERR_SYSTEM',
          errno: 'EINVAL',
          message: expect.stringContaining('detached elsewhere; it stays mapped until collected'),
        },
        readBack: 7,
        closed: false,
      });
      expect(await child.exited).toEqual({ code: 0, signal: null });
    },
  );

  it("a lapped reader resumes at the start of the writer's lap, however close the tail is to that lap's end", () => {
    // The first lap is overwritten by the second, which is filled to within a few records of its end: only the
    // first lap may be lost, whatever the writer announced ahead of what it wrote.
    for (const payloadSize of [0, 4, 12, 20, 36]) {
      const perLap = Math.floor(4096 / (8 + Math.ceil(payloadSize / 8) * 8));
      for (let second = perLap - 6; second < perLap; second++) {
        const { writer, reader, gaps } = open({ capacity: 4096 });
        for (let i = 0; i < perLap + second; i++) writer.write(new Uint8Array(payloadSize));
        const got = drain(reader, 'poll');
        expect(gaps).toEqual([{ lost: perLap, resumedAt: perLap }]);
        expect(got.map((r) => r.sequence)).toEqual(Array.from({ length: second }, (_, i) => perLap + i));
      }
    }
  });

  it('a zero-copy record that verify() rejects is counted in the next gap, never lost silently', () => {
    const { writer, reader, gaps } = open({});
    let written = 0;
    const write = () => writer.write(payload(written++, 100));
    write();
    const view = reader.tryReadView()!;
    expect(view.length).toBe(100);
    // The writer laps us while we hold the view: it is no longer intact.
    for (let i = 0; i < 200; i++) write();
    expect(reader.verify()).toBe(false);
    expect(reader.verify()).toBe(false);
    const got = drain(reader, 'poll');
    const lost = gaps.reduce((sum, gap) => sum + gap.lost, 0);
    // The rejected record is among the lost: read + lost accounts for every record written.
    expect(got.length + lost).toBe(written);
    expect(gaps[0]!.resumedAt).toBe(got[0]!.sequence);
  });

  it('closing a reader ends a pending wait and a running poll cleanly', async () => {
    const { writer, reader } = open({});
    const pending = reader.ready();
    reader.close();
    expect(await pending).toBe(false);

    const second = RingReader.open({ name: writer.name });
    for (let i = 0; i < 5; i++) writer.write(payload(i, 10));
    let seen = 0;
    expect(
      second.poll(() => {
        seen++;
        second.close();
      }),
    ).toBe(1);
    expect(seen).toBe(1);
  });

  it('validates options with SHMQ_ERR_INVALID_ARGUMENT', () => {
    const name = cleanup.name('bad');
    const bad = [
      { capacity: 5000 },
      { capacity: 1024 },
      { maxReaders: 0 },
      { maxRecordSize: 2 ** 21 },
      { startPosition: 3 },
    ];
    for (const options of bad) {
      expect(() => RingWriter.create({ name, ...options })).toThrow(
        expect.objectContaining({ code: 'SHMQ_ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(() => RingWriter.create({ name: 'has/slash' })).toThrow(ShmQueueError);
    for (const size of [Number.NaN, 0, 1.5, -4096]) {
      expect(() => Segment.create(name, size)).toThrow(
        expect.objectContaining({ code: 'SHMQ_ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(() => RingReader.open({ name, idle: 'nap' as 'spin' })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_INVALID_ARGUMENT' }),
    );
    expect(shmLeftovers()).toEqual([]);
  });

  it('reports SEGMENT_EXISTS and SEGMENT_NOT_FOUND', () => {
    const { name } = open({});
    expect(() => RingWriter.create({ name })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_SEGMENT_EXISTS' }),
    );
    expect(() => RingReader.open({ name: cleanup.name('missing') })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_SEGMENT_NOT_FOUND' }),
    );
  });

  it('gives out every slot once, then SHMQ_ERR_NO_FREE_SLOT; a released slot is reused', () => {
    const name = cleanup.name('slots');
    const writer = RingWriter.create({ name, maxReaders: 3 });
    cleanup.defer(() => writer.close());
    const readers = [0, 1, 2].map(() => RingReader.open({ name }));
    expect(readers.map((r) => r.slot)).toEqual([0, 1, 2]);
    expect(() => RingReader.open({ name })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_NO_FREE_SLOT' }),
    );
    readers[1]!.close();
    const again = RingReader.open({ name });
    expect(again.slot).toBe(1);
    expect(writer.readers().map((r) => r.slot)).toEqual([0, 1, 2]);
    for (const reader of [readers[0]!, readers[2]!, again]) reader.close();
    expect(writer.readers()).toEqual([]);
  });

  it('claims exactly the slot asked for, or says it is taken', () => {
    const name = cleanup.name('slot-choice');
    const writer = RingWriter.create({ name, maxReaders: 4 });
    cleanup.defer(() => writer.close());
    const reader = RingReader.open({ name, slot: 2 });
    expect(reader.slot).toBe(2);
    expect(() => RingReader.open({ name, slot: 2 })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_NO_FREE_SLOT', message: expect.stringContaining('slot 2') }),
    );
    expect(() => RingReader.open({ name, slot: 4 })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_INVALID_ARGUMENT' }),
    );
    expect(RingReader.open({ name }).slot).toBe(0);
    reader.close();
  });
});

describe('slot ownership', () => {
  it('a reader whose slot the writer released learns it with SHMQ_ERR_EVICTED instead of reading unprotected', () => {
    const { writer, reader } = open({ backPressure: true });
    writer.write(Buffer.from('one'));
    expect(reader.tryRead()?.toString()).toBe('one');
    expect(writer.releaseReader(reader.slot, process.pid + 1)).toBe(false);
    expect(writer.releaseReader(reader.slot, process.pid)).toBe(true);
    writer.write(Buffer.from('two'));
    expect(() => reader.tryRead()).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_EVICTED', slot: reader.slot }),
    );
  });
});

describe('slot reuse within one process', () => {
  it('a reader whose slot was released and reclaimed by a newer reader of the same process leaves it alone', () => {
    const { name, writer, reader: old } = open({ backPressure: true });
    expect(writer.releaseReader(old.slot, process.pid)).toBe(true);
    const fresh = RingReader.open({ name });
    cleanup.defer(() => fresh.close());
    expect(fresh.slot).toBe(old.slot);

    writer.write(Buffer.from('for the new one'));
    for (const read of [() => old.tryRead(), () => old.poll(() => {}), () => old.tryRead()]) {
      expect(read).toThrow(expect.objectContaining({ code: 'SHMQ_ERR_EVICTED' }));
    }
    old.close();
    expect(writer.readers().map((r) => r.slot)).toEqual([fresh.slot]);
    expect(fresh.tryRead()?.toString()).toBe('for the new one');
  });
});

describe('wake-ups', () => {
  it('calls onWake once per sleeping reader, and retries a doorbell whose transport threw', async () => {
    const name = cleanup.name('wake');
    const wakes: number[] = [];
    let broken = true;
    const writer = RingWriter.create({
      name,
      onWake: (slot) => {
        if (broken) throw new Error('transport down');
        wakes.push(slot);
      },
    });
    cleanup.defer(() => writer.close());
    const reader = RingReader.open({ name });
    cleanup.defer(() => reader.close());
    let woken = false;
    const waiting = reader.ready().then((ready) => {
      woken = ready;
    });
    expect(writer.readers()[0]!.sleeping).toBe(true);
    expect(() => writer.write(Buffer.from('a'))).toThrow('transport down');
    expect(writer.readers()[0]!.sleeping).toBe(true);
    broken = false;
    writer.write(Buffer.from('b'));
    writer.write(Buffer.from('c'));
    expect(wakes).toEqual([reader.slot]);
    reader.notify();
    await waiting;
    expect(woken).toBe(true);
    expect(drain(reader, 'copy').map((r) => Buffer.from(r.bytes).toString())).toEqual(['a', 'b', 'c']);
  });

  it('close() still unmaps and removes the segment when a doorbell throws, then reports the failure', () => {
    const name = cleanup.name('wake-close');
    const writer = RingWriter.create({
      name,
      onWake: () => {
        throw new Error('transport down');
      },
    });
    const reader = RingReader.open({ name });
    cleanup.defer(() => reader.close());
    void reader.ready();
    expect(writer.readers()[0]!.sleeping).toBe(true);
    expect(() => writer.close()).toThrow('transport down');
    expect(writer.closed).toBe(true);
    expect(shmLeftovers()).toEqual([]);
    expect(reader.writerClosed).toBe(true);
  });
});

describe('overrun', () => {
  it('a lapped reader skips ahead and reports exactly the records it lost', () => {
    const { writer, reader, gaps } = open({});
    const record = new Uint8Array(100);
    for (let i = 0; i < 3; i++) writer.write(record);
    expect(drain(reader, 'copy')).toHaveLength(3);
    for (let i = 0; i < 1000; i++) writer.write(payload(i + 3, 100));
    const got = drain(reader, 'poll');
    expect(gaps).toHaveLength(1);
    expect(reader.laps).toBe(1);
    expect(gaps[0]!.lost + got.length).toBe(1000);
    expect(got[0]!.sequence).toBe(gaps[0]!.resumedAt);
    got.forEach((r, i) => {
      expect(r.sequence).toBe(gaps[0]!.resumedAt + i);
      expect(r.bytes).toEqual(payload(r.sequence, 100));
    });
    expect(reader.lostRecords).toBe(gaps[0]!.lost);
    expect(writer.readers()[0]).toMatchObject({ laps: 1, lostRecords: gaps[0]!.lost });
  });
});

describe('wrap boundaries (property tests)', () => {
  const op = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant('write' as const), size: fc.nat({ max: 4096 / 4 - 8 }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('read' as const),
        mode: fc.constantFrom<ReadMode>('copy', 'view', 'poll'),
      }),
    },
  );

  it('back-pressure: nothing lost, duplicated or reordered across the 2^32 position and sequence wraps', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1024 }),
        fc.nat({ max: 64 }),
        fc.array(op, { minLength: 1, maxLength: 120 }),
        (below, seqBelow, ops) => {
          const { writer, reader, gaps } = open({
            backPressure: true,
            startPosition: TWO_32 - below * 8,
            startSequence: TWO_32 - seqBelow,
          });
          const pending: Array<{ sequence: number; size: number }> = [];
          const check = (mode: ReadMode) => {
            for (const record of drain(reader, mode)) {
              const want = pending.shift()!;
              expect(record.sequence).toBe(want.sequence);
              expect(record.bytes).toEqual(payload(want.sequence, want.size));
            }
            expect(pending).toEqual([]);
          };
          for (const step of ops) {
            if (step.kind === 'write') {
              const sequence = writer.sequence;
              if (!writer.write(payload(sequence, step.size))) {
                check('copy');
                expect(writer.write(payload(sequence, step.size))).toBe(true);
              }
              pending.push({ sequence, size: step.size });
            } else {
              check(step.mode);
            }
          }
          check('poll');
          expect(gaps).toEqual([]);
          expect(reader.position).toBe(writer.position);
          writer.close();
          reader.close();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('overwrite: received + lost = written, in order, intact, wherever the counters start', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1024 }),
        fc.array(fc.nat({ max: 4096 / 4 - 8 }), { minLength: 1, maxLength: 200 }),
        fc.constantFrom<ReadMode>('copy', 'view', 'poll'),
        (below, sizes, mode) => {
          const { writer, reader, gaps } = open({
            startPosition: TWO_32 - below * 8,
            startSequence: TWO_32 - 3,
          });
          const first = writer.sequence;
          for (const size of sizes) writer.write(payload(writer.sequence, size));
          const got = drain(reader, mode);
          const lost = gaps.reduce((sum, gap) => sum + gap.lost, 0);
          expect(got.length + lost).toBe(sizes.length);
          got.forEach((record, i) => {
            if (i > 0) expect(record.sequence).toBeGreaterThan(got[i - 1]!.sequence);
            expect(record.bytes).toEqual(payload(record.sequence, sizes[record.sequence - first]!));
          });
          if (got.length > 0) expect(got.at(-1)!.sequence).toBe(first + sizes.length - 1);
          writer.close();
          reader.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
