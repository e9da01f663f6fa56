import { afterEach, describe, expect, it } from 'vitest';
import { connectDoorbell, DoorbellServer, RingReader, RingWriter } from '../src/index.js';
import { Cleanup, shmLeftovers } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Done {
  outcome: string;
  count: number;
  lost: number;
  laps: number;
  gaps: number;
  torn: number;
  errors: number;
  firstError: string | null;
}

/** Waits for a condition that another process brings about; bounded, so a bug fails instead of hanging. */
async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// SIGSTOP does not exist on Windows: there a process cannot be paused from outside the way this test needs.
describe.skipIf(process.platform === 'win32')('a paused reader', () => {
  it('reports a gap of exactly what it missed; the others see everything; the writer never waits', async () => {
    const name = cleanup.name('sigstop');
    const socket = cleanup.socketPath();
    const writer = cleanup.spawn('writer.mjs', [name, socket, String(1 << 16), '0', '52']);
    await writer.next('listening');
    const readers = [0, 1, 2].map(() => cleanup.spawn('reader.mjs', [name, socket, '52', 'block']));
    await Promise.all(readers.map((reader) => reader.next('ready')));
    const paused = readers[2]!;
    paused.process.kill('SIGSTOP');

    writer.send({ cmd: 'write', count: 200_000, exceptPid: paused.pid });
    const burst = await writer.next<{ written: number; full: number }>('written');
    expect(burst).toMatchObject({ written: 200_000, full: 0 });
    writer.send({ cmd: 'readers' });
    const { readers: seen } = await writer.next<{ readers: Array<{ pid: number; lag: number }> }>('readers');
    expect(seen.find((r) => r.pid === paused.pid)!.lag).toBeGreaterThan(1 << 16);

    paused.process.kill('SIGCONT');
    writer.send({ cmd: 'write', count: 10 });
    await writer.next('written');
    writer.send({ cmd: 'close' });
    const [a, b, c] = await Promise.all(readers.map((reader) => reader.next<Done>('done')));
    for (const keptUp of [a!, b!]) {
      expect(keptUp).toMatchObject({
        outcome: 'closed',
        count: 200_010,
        lost: 0,
        laps: 0,
        torn: 0,
        errors: 0,
      });
    }
    expect(c!.errors).toBe(0);
    expect(c!.firstError).toBeNull();
    expect(c!.laps).toBeGreaterThanOrEqual(1);
    expect(c!.lost).toBeGreaterThan(0);
    expect(c!.count + c!.lost + c!.torn).toBe(200_010);
    await writer.exited;
    expect(shmLeftovers()).toEqual([]);
  }, 60_000);
});

describe('a killed reader', () => {
  it('has its slot freed as soon as its doorbell connection drops', async () => {
    const name = cleanup.name('sigkill');
    const writer = RingWriter.create({ name, capacity: 1 << 16 });
    cleanup.defer(() => writer.close());
    const doorbell = await DoorbellServer.listen({ writer, path: cleanup.socketPath() });
    cleanup.defer(() => doorbell.close());
    const child = cleanup.spawn('reader.mjs', [name, doorbell.path, '52', 'block']);
    const { slot } = await child.next<{ slot: number }>('ready');
    await doorbell.waitForReaders(1);
    expect(writer.readers().map((r) => r.pid)).toEqual([child.pid]);

    child.process.kill('SIGKILL');
    await child.exited;
    await eventually(() => writer.readers().length === 0);
    expect(doorbell.connectedSlots).toEqual([]);
    const next = RingReader.open({ name });
    expect(next.slot).toBe(slot);
    next.close();
  });

  it('without any doorbell, its slot is reclaimed by the next reader that needs one', async () => {
    const name = cleanup.name('reclaim');
    const writer = RingWriter.create({ name, capacity: 1 << 16, maxReaders: 1 });
    cleanup.defer(() => writer.close());
    const child = cleanup.spawn('hold-slot.mjs', [name]);
    await child.next('ready');
    expect(() => RingReader.open({ name })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_NO_FREE_SLOT' }),
    );

    child.process.kill('SIGKILL');
    await child.exited;
    const reader = RingReader.open({ name });
    expect(reader.slot).toBe(0);
    expect(writer.readers().map((r) => r.pid)).toEqual([process.pid]);
    writer.write(Buffer.from('after reclaim'));
    expect(reader.tryRead()?.toString()).toBe('after reclaim');
    reader.close();
  });

  it('is reaped by a back-pressure writer that would otherwise wait for it forever', async () => {
    const name = cleanup.name('reap');
    const writer = RingWriter.create({ name, capacity: 4096, backPressure: true });
    cleanup.defer(() => writer.close());
    const child = cleanup.spawn('hold-slot.mjs', [name]);
    await child.next('ready');
    const record = new Uint8Array(100);
    while (writer.write(record));
    child.process.kill('SIGKILL');
    await child.exited;
    expect(writer.write(record)).toBe(true);
    expect(writer.readers()).toEqual([]);
  });
});

describe('a killed writer', () => {
  it('is seen by a blocked reader at once: its wait rejects with SHMQ_ERR_WRITER_GONE', async () => {
    const name = cleanup.name('writer-kill');
    const socket = cleanup.socketPath();
    const writer = cleanup.spawn('writer.mjs', [name, socket, String(1 << 16), '0', '8']);
    await writer.next('listening');
    const reader = RingReader.open({ name });
    cleanup.defer(() => reader.close());
    const doorbell = await connectDoorbell(reader, { path: socket });
    cleanup.defer(() => doorbell.close());
    writer.send({ cmd: 'write', count: 3 });
    await writer.next('written');
    const received: Buffer[] = [];
    const loop = (async () => {
      for await (const record of reader) received.push(record);
    })();
    await eventually(() => received.length === 3);

    writer.process.kill('SIGKILL');
    await expect(loop).rejects.toMatchObject({ code: 'SHMQ_ERR_WRITER_GONE', name: 'WriterGoneError' });
    expect(reader.writerClosed).toBe(false);
  });

  it('that closes cleanly ends the readers loops after they drained the ring', async () => {
    const name = cleanup.name('writer-close');
    const writer = RingWriter.create({ name, capacity: 1 << 16 });
    cleanup.defer(() => writer.close());
    const doorbell = await DoorbellServer.listen({ writer, path: cleanup.socketPath() });
    cleanup.defer(() => doorbell.close());
    const readers = ['block', 'spin', 'backoff'] as const;
    const opened = readers.map((idle) => RingReader.open({ name, idle }));
    for (const reader of opened) cleanup.defer(() => reader.close());
    const bells = await Promise.all(opened.map((reader) => connectDoorbell(reader, { path: doorbell.path })));
    for (const bell of bells) cleanup.defer(() => bell.close());
    await doorbell.waitForReaders(3);
    const loops = opened.map(async (reader) => {
      const got: string[] = [];
      for await (const record of reader) got.push(record.toString());
      return got;
    });
    for (let i = 0; i < 50; i++) {
      writer.write(Buffer.from(`m${i}`));
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    writer.close();
    await doorbell.close();
    const expected = Array.from({ length: 50 }, (_, i) => `m${i}`);
    for (const got of await Promise.all(loops)) expect(got).toEqual(expected);
    for (const bell of bells) bell.close();
    for (const reader of opened) reader.close();
    expect(shmLeftovers()).toEqual([]);
  });
});
