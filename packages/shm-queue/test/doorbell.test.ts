import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { DoorbellServer, RingWriter } from '../src/index.js';
import { Cleanup } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

it('wakes a blocked reader in another process through any transport the writer plugs into onWake', async () => {
  const name = cleanup.name('custom-bell');
  const wakes: number[] = [];
  const writer = RingWriter.create({ name, capacity: 1 << 16 });
  cleanup.defer(() => writer.close());
  const child = cleanup.spawn('stdin-doorbell-reader.mjs', [name, '300']);
  const { slot } = await child.next<{ slot: number }>('ready');
  writer.onWake = (woken) => {
    wakes.push(woken);
    child.process.stdin!.write('!'); // the doorbell: one byte on the reader's own channel
  };
  const expected: string[] = [];
  for (let burst = 0; burst < 30; burst++) {
    // Wait until the reader has gone to sleep, so every burst needs a doorbell to be seen.
    while (!writer.readers()[0]?.sleeping) await new Promise((resolve) => setTimeout(resolve, 1));
    for (let i = 0; i < 10; i++) {
      const text = `b${burst}-r${i}`;
      writer.write(Buffer.from(text));
      expected.push(text);
    }
  }
  const { got } = await child.next<{ got: string[] }>('done');
  expect(got).toEqual(expected);
  // Only sleeping readers are rung, once per sleep: at least once per burst, never once per record.
  expect(wakes.length).toBeGreaterThanOrEqual(30);
  expect(wakes.length).toBeLessThan(expected.length);
  expect(new Set(wakes)).toEqual(new Set([slot]));
});

it('a wait for readers that can no longer come ends with SHMQ_ERR_CLOSED when the doorbell server closes', async () => {
  const writer = RingWriter.create({ name: cleanup.name('no-readers') });
  cleanup.defer(() => writer.close());
  const doorbell = await DoorbellServer.listen({ writer, path: join(cleanup.dir(), 'doorbell.sock') });
  const waiting = doorbell.waitForReaders(1);
  await doorbell.close();
  await expect(waiting).rejects.toMatchObject({ code: 'SHMQ_ERR_CLOSED' });
  await expect(doorbell.waitForReaders(1)).rejects.toMatchObject({ code: 'SHMQ_ERR_CLOSED' });
});
