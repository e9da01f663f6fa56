import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, shmLeftovers } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Done {
  outcome: string;
  count: number;
  firstSequence: number;
  lastSequence: number;
  lost: number;
  laps: number;
  gaps: number;
  errors: number;
  firstError: string | null;
}

describe('1 writer, 4 reader processes', () => {
  it('delivers 10M checksummed random-size records to every reader: no loss, duplicate or reorder', async () => {
    const name = cleanup.name('fanout');
    const socket = cleanup.socketPath();
    const records = 10_000_000;
    const maxExtra = 52;
    const writer = cleanup.spawn('writer.mjs', [name, socket, String(1 << 22), '1', String(maxExtra)]);
    await writer.next('listening');
    const readers = Array.from({ length: 4 }, () =>
      cleanup.spawn('reader.mjs', [name, socket, String(maxExtra), 'block']),
    );
    const slots = await Promise.all(readers.map((reader) => reader.next<{ slot: number }>('ready')));
    expect(new Set(slots.map((ready) => ready.slot)).size).toBe(4);

    writer.send({ cmd: 'write', count: records });
    const written = await writer.next<{ written: number }>('written', 150_000);
    expect(written.written).toBe(records);
    writer.send({ cmd: 'close' });
    const results = await Promise.all(readers.map((reader) => reader.next<Done>('done', 60_000)));
    for (const result of results) {
      expect(result).toMatchObject({
        outcome: 'closed',
        count: records,
        firstSequence: 0,
        lastSequence: records - 1,
        lost: 0,
        laps: 0,
        errors: 0,
        firstError: null,
      });
    }
    await writer.exited;
    expect(shmLeftovers()).toEqual([]);
  }, 180_000);
});
