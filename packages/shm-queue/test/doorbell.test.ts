import { createConnection } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { connectDoorbell, DoorbellServer, RingReader, RingWriter } from '../src/index.js';
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
  const doorbell = await DoorbellServer.listen({ writer, path: cleanup.socketPath() });
  const waiting = doorbell.waitForReaders(1);
  await doorbell.close();
  await expect(waiting).rejects.toMatchObject({ code: 'SHMQ_ERR_CLOSED' });
  await expect(doorbell.waitForReaders(1)).rejects.toMatchObject({ code: 'SHMQ_ERR_CLOSED' });
});

it('ignores a hello for a slot the sender does not hold, and keeps the real reader connected', async () => {
  const name = cleanup.name('rogue-hello');
  const writer = RingWriter.create({ name });
  cleanup.defer(() => writer.close());
  const doorbell = await DoorbellServer.listen({ writer, path: cleanup.socketPath() });
  cleanup.defer(() => doorbell.close());
  const reader = RingReader.open({ name });
  cleanup.defer(() => reader.close());
  const bell = await connectDoorbell(reader, { path: doorbell.path });
  cleanup.defer(() => bell.close());
  await doorbell.waitForReaders(1);

  // Claims the reader's slot with another pid: hung up on, and the reader's own connection is not displaced.
  const rogue = createConnection(doorbell.path);
  rogue.on('error', () => {});
  await new Promise((resolve) => rogue.once('connect', resolve));
  const hello = Buffer.alloc(12);
  hello.writeUInt32LE(0x4c454244, 0);
  hello.writeInt32LE(reader.slot, 4);
  hello.writeInt32LE(process.pid + 1, 8);
  rogue.write(hello);
  await new Promise((resolve) => rogue.once('close', resolve));
  expect(doorbell.connectedSlots).toEqual([reader.slot]);
  expect(writer.readers().map((r) => r.pid)).toEqual([process.pid]);
});

it.runIf(process.platform === 'win32')(
  'refuses a file path on Windows, naming the named-pipe form it needs',
  async () => {
    const writer = RingWriter.create({ name: cleanup.name('pipe-path') });
    cleanup.defer(() => writer.close());
    await expect(DoorbellServer.listen({ writer, path: 'C:\\temp\\doorbell.sock' })).rejects.toMatchObject({
      code: 'SHMQ_ERR_DOORBELL',
      message: expect.stringContaining('must be a named pipe'),
    });
  },
);
