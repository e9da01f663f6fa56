import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RingReader, RingWriter, Segment } from '../src/index.js';
import { Cleanup } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

// Byte offsets from LAYOUT.md.
const MAGIC = 0x51524d57;
const VERSION_OFFSET = 4;
const CAPACITY_OFFSET = 12;
const DATA_OFFSET_64_READERS = 256 + 64 * 64;

function ringWithRawView(capacity = 4096) {
  const name = cleanup.name('corrupt');
  const writer = RingWriter.create({ name, capacity });
  cleanup.defer(() => writer.close());
  const raw = Segment.open(name); // a second mapping of the same pages, to damage them
  cleanup.defer(() => raw.close());
  return { name, writer, view: new DataView(raw.buffer) };
}

describe('opening something that is not a valid ring', () => {
  it('SHMQ_ERR_NOT_A_RING for a segment without the magic', () => {
    const name = cleanup.name('not-a-ring');
    // Held open while the reader looks: a Windows mapping ends with its last handle (POSIX keeps the name).
    const segment = Segment.create(name, 8192);
    cleanup.defer(() => segment.close());
    expect(() => RingReader.open({ name })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_NOT_A_RING', name: 'NotARingError' }),
    );
  });

  it('SHMQ_ERR_VERSION for another layout version', () => {
    const { name, view } = ringWithRawView();
    view.setInt32(VERSION_OFFSET, 99, true);
    expect(() => RingReader.open({ name })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_VERSION', found: 99, expected: 1 }),
    );
  });

  it('SHMQ_ERR_TRUNCATED for a segment shorter than its header says', () => {
    const name = cleanup.name('truncated');
    const segment = Segment.create(name, 8192);
    const view = new DataView(segment.buffer);
    const header = [MAGIC, 1, DATA_OFFSET_64_READERS, 1 << 20, 64, 64, 8, 0, 1000];
    for (const [i, word] of header.entries()) view.setInt32(i * 4, word, true);
    cleanup.defer(() => segment.close());
    expect(() => RingReader.open({ name })).toThrow(expect.objectContaining({ code: 'SHMQ_ERR_TRUNCATED' }));

    // A segment smaller than the header itself: Windows maps whole pages (4 KiB) and reports that size, so there the
    // smallest segment already holds a full header and this case cannot arise.
    if (process.platform === 'win32') return;
    const tiny = cleanup.name('tiny');
    const small = Segment.create(tiny, 64);
    new DataView(small.buffer).setInt32(0, MAGIC, true);
    new DataView(small.buffer).setInt32(4, 1, true);
    cleanup.defer(() => small.close());
    expect(() => RingReader.open({ name: tiny })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_TRUNCATED' }),
    );
  });

  // A segment whose creator has not sized it yet (shm_open and ftruncate are two steps): the addon reports ENODATA,
  // a real errno name, and the reader turns it into SHMQ_ERR_TRUNCATED.
  it.runIf(process.platform === 'linux')('SHMQ_ERR_TRUNCATED for a segment not sized yet (empty)', () => {
    const name = cleanup.name('empty');
    writeFileSync(`/dev/shm/${name}`, '', { mode: 0o600 });
    expect(() => Segment.open(name)).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_SYSTEM', errno: 'ENODATA', name: 'SystemError' }),
    );
    expect(() => RingReader.open({ name })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_TRUNCATED', name: 'TruncatedSegmentError' }),
    );
  });

  it('SHMQ_ERR_CORRUPT_HEADER for impossible geometry', () => {
    const { name, view } = ringWithRawView();
    view.setInt32(CAPACITY_OFFSET, 12345, true);
    expect(() => RingReader.open({ name })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_CORRUPT_HEADER', name: 'CorruptHeaderError' }),
    );
  });
});

describe('a corrupted intent word', () => {
  // intent is a position (hiA at +0, lo at +4, hiB at +8); a far-away high word claims the writer is overwriting
  // bytes no reader can ever catch up with.
  const INTENT_OFFSET = 128;
  const damageIntent = (view: DataView) => {
    view.setInt32(INTENT_OFFSET, 0x100, true);
    view.setInt32(INTENT_OFFSET + 8, 0x100, true);
  };

  it('SHMQ_ERR_CORRUPT_HEADER for a reader already reading, never an endless retry', () => {
    const { name, writer, view } = ringWithRawView();
    const reader = RingReader.open({ name });
    cleanup.defer(() => reader.close());
    writer.write(Buffer.from('fine'));
    expect(reader.tryRead()?.toString()).toBe('fine');
    writer.write(Buffer.from('next'));
    damageIntent(view);
    for (const read of [() => reader.tryRead(), () => reader.tryReadView(), () => reader.poll(() => {})]) {
      expect(read).toThrow(expect.objectContaining({ code: 'SHMQ_ERR_CORRUPT_HEADER' }));
    }
  });

  it('SHMQ_ERR_CORRUPT_HEADER for a reader joining, and its slot is given back', () => {
    const { name, writer, view } = ringWithRawView();
    writer.write(Buffer.from('before'));
    damageIntent(view);
    expect(() => RingReader.open({ name })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_CORRUPT_HEADER' }),
    );
    expect(writer.readers()).toEqual([]);
  });
});

describe('a corrupted tail word', () => {
  const TAIL_OFFSET = 64;

  it('SHMQ_ERR_CORRUPT_HEADER when the tail is not a position at all, never a read at a negative offset', () => {
    const { name, writer, view } = ringWithRawView(1 << 20);
    writer.write(Buffer.from('before'));
    // tail and intent both negative (they agree, so the intent check alone would let the reader join there).
    for (const at of [TAIL_OFFSET, TAIL_OFFSET + 8, 128, 136]) view.setInt32(at, -1, true);
    expect(() => RingReader.open({ name })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_CORRUPT_HEADER' }),
    );
    expect(writer.readers()).toEqual([]);
  });

  it('SHMQ_ERR_CORRUPT_HEADER for a reader whose tail goes backwards', () => {
    const { name, writer, view } = ringWithRawView();
    const reader = RingReader.open({ name });
    cleanup.defer(() => reader.close());
    writer.write(Buffer.from('fine'));
    expect(reader.tryRead()?.toString()).toBe('fine');
    view.setInt32(TAIL_OFFSET, -1, true);
    view.setInt32(TAIL_OFFSET + 8, -1, true);
    writer.write(Buffer.from('next'));
    for (const read of [() => reader.tryRead(), () => reader.poll(() => {})]) {
      expect(read).toThrow(expect.objectContaining({ code: 'SHMQ_ERR_CORRUPT_HEADER' }));
    }
  });
});

describe('a torn 64-bit position', () => {
  it("SHMQ_ERR_CORRUPT_HEADER, not a hang, when the tail's two high words never agree", () => {
    const { name, writer, view } = ringWithRawView();
    const reader = RingReader.open({ name });
    cleanup.defer(() => reader.close());
    writer.write(Buffer.from('fine'));
    expect(reader.tryRead()?.toString()).toBe('fine');
    // As if the writer died between storing the tail's first and second high word at a 2^32 crossing.
    view.setInt32(64, 1, true);
    const started = performance.now();
    expect(() => reader.tryRead()).toThrow(
      expect.objectContaining({
        code: 'SHMQ_ERR_CORRUPT_HEADER',
        message: expect.stringMatching(/stays torn/),
      }),
    );
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('corrupted records', () => {
  const damage: Array<[string, (view: DataView, at: number) => void]> = [
    ['a length beyond the segment', (view, at) => view.setInt32(at, 1_000_000_000, true)],
    ['a negative length', (view, at) => view.setInt32(at, -7, true)],
    ['a length running past the published tail', (view, at) => view.setInt32(at, 900, true)],
    ['a sequence number out of order', (view, at) => view.setInt32(at + 4, 12345, true)],
  ];
  for (const [what, corrupt] of damage) {
    it(`SHMQ_ERR_CORRUPT_RECORD for ${what}, never a hang or an out-of-bounds read`, () => {
      const { name, writer, view } = ringWithRawView();
      const reader = RingReader.open({ name });
      cleanup.defer(() => reader.close());
      writer.write(Buffer.from('fine'));
      writer.write(Buffer.from('about to be damaged'));
      expect(reader.tryRead()?.toString()).toBe('fine');
      corrupt(view, DATA_OFFSET_64_READERS + 16);
      for (const read of [() => reader.tryRead(), () => reader.tryReadView(), () => reader.poll(() => {})]) {
        expect(read).toThrow(
          expect.objectContaining({ code: 'SHMQ_ERR_CORRUPT_RECORD', name: 'CorruptRecordError' }),
        );
      }
    });
  }
});
