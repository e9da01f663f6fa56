import { afterEach, describe, expect, it } from 'vitest';
import { RingReader, RingWriter } from '../src/index.js';
import { Cleanup } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function ring(options: { capacity?: number; backPressure?: boolean } = {}) {
  const name = cleanup.name('cork');
  const writer = RingWriter.create({ name, capacity: 4096, ...options });
  cleanup.defer(() => writer.close());
  const reader = RingReader.open({ name });
  cleanup.defer(() => reader.close());
  return { writer, reader };
}

function readAll(reader: RingReader): string[] {
  const got: string[] = [];
  reader.poll((buffer, offset, length) =>
    got.push(Buffer.from(buffer.subarray(offset, offset + length)).toString()),
  );
  return got;
}

describe('cork / uncork', () => {
  it('holds records back until the outermost uncork, then publishes them all at once', () => {
    const { writer, reader } = ring();
    writer.cork();
    writer.cork();
    expect(writer.corked).toBe(true);
    for (const text of ['a', 'b', 'c']) expect(writer.write(Buffer.from(text))).toBe(true);
    expect(reader.hasData()).toBe(false);
    writer.uncork();
    expect(writer.corked).toBe(true);
    expect(reader.hasData()).toBe(false);
    writer.uncork();
    expect(writer.corked).toBe(false);
    expect(readAll(reader)).toEqual(['a', 'b', 'c']);
    // An extra uncork is harmless, and an uncorked writer publishes each record at once again.
    writer.uncork();
    writer.write(Buffer.from('d'));
    expect(readAll(reader)).toEqual(['d']);
  });

  it('a full back-pressure ring publishes what the cork held back before refusing, so readers can make room', () => {
    const { writer, reader } = ring({ backPressure: true });
    writer.cork();
    const written: string[] = [];
    for (let i = 0; ; i++) {
      const text = `record-${i}-${'x'.repeat(40)}`;
      if (!writer.write(Buffer.from(text))) break;
      written.push(text);
    }
    expect(written.length).toBeGreaterThan(10);
    // Still corked, yet everything written is visible: the refusal published it.
    expect(writer.corked).toBe(true);
    expect(readAll(reader)).toEqual(written);
    expect(writer.write(Buffer.from('after'))).toBe(true);
    writer.uncork();
    expect(readAll(reader)).toEqual(['after']);
  });

  it('a long cork on an overwrite ring publishes by itself: readers see a gap, never a damaged header', () => {
    const { writer, reader } = ring({ capacity: 4096 });
    const gaps: number[] = [];
    reader.onGap = (gap) => gaps.push(gap.lost);
    writer.cork();
    const total = 400; // 400 x 48-byte records: more than four laps of a 4 KiB ring, all under one cork
    for (let i = 0; i < total; i++)
      writer.write(Buffer.from(`r${String(i).padStart(4, '0')}-${'y'.repeat(32)}`));
    // Published along the way (a quarter of the capacity at a time), not just at the end.
    expect(reader.hasData()).toBe(true);
    const got = readAll(reader).map((text) => Number(text.slice(1, 5)));
    expect(got.length).toBeGreaterThan(0);
    expect(got.at(-1)).toBeLessThan(total - 1);
    writer.uncork();
    got.push(...readAll(reader).map((text) => Number(text.slice(1, 5))));
    expect(got.at(-1)).toBe(total - 1);
    for (let i = 1; i < got.length; i++) expect(got[i]).toBeGreaterThan(got[i - 1]!);
    // Every record is either read or counted in a gap: nothing is lost silently.
    expect(got.length + gaps.reduce((a, b) => a + b, 0)).toBe(total);
  });

  it('close() publishes what a cork held back: readers drain it, then see the end', async () => {
    const { writer, reader } = ring();
    writer.cork();
    writer.write(Buffer.from('last words'));
    writer.close({ unlink: false });
    expect(readAll(reader)).toEqual(['last words']);
    expect(await reader.ready()).toBe(false);
  });

  it('cork on a closed writer throws SHMQ_ERR_CLOSED; uncork is a no-op, so a finally never hides an error', () => {
    const { writer } = ring();
    writer.cork();
    writer.close({ unlink: false });
    expect(() => writer.cork()).toThrow(expect.objectContaining({ code: 'SHMQ_ERR_CLOSED' }));
    expect(() => writer.uncork()).not.toThrow();
  });

  it('a back-pressure writer keeps room for a reader that joins while it is corked', () => {
    const name = cleanup.name('cork-join');
    const writer = RingWriter.create({ name, capacity: 4096, backPressure: true });
    cleanup.defer(() => writer.close());
    const record = (i: number) => Buffer.from(`${String(i).padStart(4, '0')}${'z'.repeat(96)}`);
    let next = 0;
    // Nobody reads yet: the writer sizes its room from no reader at all.
    for (; next < 30; next++) expect(writer.write(record(next))).toBe(true);
    writer.cork();
    for (let i = 0; i < 7; i++, next++) expect(writer.write(record(next))).toBe(true);
    // Joins at the published tail, behind the 7 held-back records.
    const reader = RingReader.open({ name });
    cleanup.defer(() => reader.close());
    const firstVisible = 30;
    while (writer.write(record(next))) next++;
    writer.uncork();
    const got = readAll(reader).map((text) => Number(text.slice(0, 4)));
    expect(got).toEqual(Array.from({ length: next - firstVisible }, (_, i) => firstVisible + i));
    expect(reader.lostRecords).toBe(0);
  });

  it('rings a sleeping reader in another process once per corked batch, not once per record', async () => {
    const name = cleanup.name('cork-bell');
    const writer = RingWriter.create({ name, capacity: 1 << 16 });
    cleanup.defer(() => writer.close());
    const bursts = 20;
    const perBurst = 25;
    const child = cleanup.spawn('stdin-doorbell-reader.mjs', [name, String(bursts * perBurst)]);
    await child.next('ready');
    let wakes = 0;
    writer.onWake = () => {
      wakes++;
      child.process.stdin!.write('!');
    };
    const expected: string[] = [];
    for (let burst = 0; burst < bursts; burst++) {
      while (!writer.readers()[0]?.sleeping) await new Promise((resolve) => setTimeout(resolve, 1));
      const before = wakes;
      writer.cork();
      for (let i = 0; i < perBurst; i++) {
        const text = `b${burst}-r${i}`;
        writer.write(Buffer.from(text));
        expected.push(text);
      }
      // Nothing is visible yet, so nobody is woken yet.
      expect(wakes).toBe(before);
      writer.uncork();
      expect(wakes).toBe(before + 1);
    }
    const { got } = await child.next<{ got: string[] }>('done');
    expect(got).toEqual(expected);
    expect(wakes).toBe(bursts);
  });
});
