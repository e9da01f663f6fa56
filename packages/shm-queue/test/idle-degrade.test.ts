// `spin` must never be worse than `block`: spinning readers that outnumber what the machine can run step down to
// blocking by themselves, say so, and step back up when a spinner leaves; a spin reader with nothing to read parks.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { connectDoorbell, DoorbellServer, RingReader, RingWriter } from '../src/index.js';
import { Cleanup } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface IdleEvent {
  requested: string;
  effective: string;
  reason?: string;
  spinningReaders: number;
}

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

/** Writes one record every `everyMs` until stopped (a trickle: readers keep finding the ring empty). */
function trickle(writer: RingWriter, everyMs: number): () => void {
  const record = new Uint8Array(16);
  const timer = setInterval(() => writer.write(record), everyMs);
  return () => clearInterval(timer);
}

describe('spin readers on an oversubscribed machine', () => {
  it('the readers past maxSpinningReaders block (and say why), CPU stays bounded, and they spin again once a spinner leaves', async () => {
    const name = cleanup.name('spinners');
    const writer = RingWriter.create({ name, capacity: 1 << 16 });
    cleanup.defer(() => writer.close({ unlink: true }));
    const path = cleanup.socketPath();
    const doorbell = await DoorbellServer.listen({ writer, path });
    cleanup.defer(() => doorbell.close());

    // Three spinners where one may spin: opened one after the other, so their slots are 0, 1, 2.
    const readers = [];
    for (let i = 0; i < 3; i++) {
      const child = cleanup.spawn('spin-reader.mjs', [name, path, 'spin', '1']);
      const ready = await child.next<{ slot: number }>('ready');
      expect(ready.slot).toBe(i);
      readers.push(child);
    }
    const stop = trickle(writer, 2);
    cleanup.defer(stop);
    const [first, second, third] = readers as [(typeof readers)[0], (typeof readers)[0], (typeof readers)[0]];
    // Each decides when it first waits: the second may have done so before the third opened.
    for (const [child, spinners] of [
      [second, [2, 3]],
      [third, [3]],
    ] as const) {
      const change = await child.next<IdleEvent>('idle', 10_000);
      expect(change).toMatchObject({ requested: 'spin', effective: 'block', reason: 'oversubscribed' });
      expect(spinners).toContain(change.spinningReaders);
    }

    // The spinner ahead of them dies without closing: its slot no longer counts, and the next in line spins.
    first.process.kill('SIGKILL');
    await first.exited;
    const back = await second.next<IdleEvent>('idle', 10_000);
    expect(back).toMatchObject({ requested: 'spin', effective: 'spin', spinningReaders: 2 });
    expect(back.reason).toBeUndefined();

    await sleep(300);
    stop();
    writer.close();
    const [secondDone, thirdDone] = await Promise.all([
      second.next<{
        cpuMs: number;
        wallMs: number;
        count: number;
        effective: string;
        degraded: string | null;
      }>('done'),
      third.next<{
        cpuMs: number;
        wallMs: number;
        count: number;
        effective: string;
        degraded: string | null;
      }>('done'),
    ]);
    // Still one spinner ahead of it: the third reader blocked all along, waking only for its doorbells.
    expect(thirdDone).toMatchObject({ effective: 'block', degraded: 'oversubscribed' });
    expect(thirdDone.count).toBeGreaterThan(0);
    expect(thirdDone.cpuMs).toBeLessThan(thirdDone.wallMs * 0.5);
    expect(secondDone.count).toBeGreaterThan(0);
  }, 60_000);

  it('a spin reader that finds nothing to read for spinIdleMs parks until the doorbell, then reads', async () => {
    const name = cleanup.name('park');
    const writer = RingWriter.create({ name, capacity: 1 << 16 });
    cleanup.defer(() => writer.close({ unlink: true }));
    const doorbell = await DoorbellServer.listen({ writer, path: cleanup.socketPath() });
    cleanup.defer(() => doorbell.close());
    const reader = RingReader.open({ name, idle: 'spin', spinIdleMs: 50, maxSpinningReaders: 1 });
    cleanup.defer(() => reader.close());
    const bell = await connectDoorbell(reader, { path: doorbell.path });
    cleanup.defer(() => bell.close());

    const got = reader.ready();
    // Parked: the writer sees it asleep (it owes it a doorbell), so it no longer burns a core.
    await eventually(() => writer.readers().some((r) => r.slot === reader.slot && r.sleeping));
    expect(reader.effectiveIdle).toBe('spin');
    writer.write(new Uint8Array([7]));
    await expect(got).resolves.toBe(true);
    expect(reader.tryRead()).toEqual(Buffer.from([7]));
  });

  it('rejects a bad maxSpinningReaders or spinIdleMs with a typed error', () => {
    const name = cleanup.name('badopts');
    const writer = RingWriter.create({ name, capacity: 1 << 16 });
    cleanup.defer(() => writer.close({ unlink: true }));
    expect(() => RingReader.open({ name, idle: 'spin', maxSpinningReaders: 1.5 })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_INVALID_ARGUMENT' }),
    );
    expect(() => RingReader.open({ name, idle: 'spin', spinIdleMs: -1 })).toThrow(
      expect.objectContaining({ code: 'SHMQ_ERR_INVALID_ARGUMENT' }),
    );
  });
});
