// The daemon's ring publisher batches per event-loop turn: the frames of one upstream read become visible to the
// clients together (one tail store, one doorbell per sleeping client), not one at a time. Real shared memory: a
// real ring writer, and a real reader in block mode waiting for its doorbell.
import { RingReader, RingWriter, Segment } from '@wsproxy/shm-queue';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientRegistry } from '../src/client-registry.js';
import type { ClientSession } from '../src/client-session.js';
import { RingPublisher } from '../src/routing/ring-publisher.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0).reverse()) close();
});

function setUp() {
  const name = `wsproxy-test-${process.pid}-batch-${Math.random().toString(36).slice(2, 8)}`;
  const wakes: number[] = [];
  const ring = RingWriter.create({ name, capacity: 1 << 20, maxRecordSize: 4096 });
  closers.push(() => {
    if (!ring.closed) ring.close({ unlink: true });
    else Segment.unlink(name);
  });
  const clients = new ClientRegistry(8);
  // The publisher reads only a client's slot and delivery counters; the control socket is not involved here.
  const session = { readerSlot: -1, stats: { deliveredMessages: 0, deliveredBytes: 0 } } as ClientSession;
  clients.admit(session);
  const reader = RingReader.open({ name, slot: session.readerSlot, idle: 'block' });
  closers.push(() => reader.close());
  // The doorbell, minus the socket: the writer names the slot it wakes, and that reader is notified.
  ring.onWake = (slot) => {
    wakes.push(slot);
    reader.notify();
  };
  return { ring, reader, wakes, session, publisher: new RingPublisher(ring, clients) };
}

describe('RingPublisher batches per event-loop turn', () => {
  it("a burst published in one turn is invisible until the turn's end, then visible at once with one doorbell", async () => {
    const { ring, reader, wakes, session, publisher } = setUp();
    const waiting = reader.ready(); // empty ring: the reader announces it sleeps and waits for its doorbell
    const before = ring.sequence;
    // What ws does with ten frames that arrived in one socket read: ten synchronous 'message' events.
    for (let i = 0; i < 10; i++) publisher.publish(1, [session.id], Buffer.from(`frame ${i}`), false);
    expect(ring.sequence - before).toBe(10); // written...
    expect(reader.hasData()).toBe(false); // ...but not published mid-burst
    expect(wakes).toEqual([]);

    await expect(waiting).resolves.toBe(true);
    expect(wakes).toEqual([session.readerSlot]); // one doorbell for the whole burst
    let seen = 0;
    reader.poll(() => {
      seen++;
    });
    expect(seen).toBe(10);
    expect(session.stats.deliveredMessages).toBe(10);
  });

  it('the next turn starts a new batch; a message split into fragments still goes out whole', async () => {
    const { ring, reader, wakes, session, publisher } = setUp();
    publisher.publish(1, [session.id], Buffer.from('first turn'), false);
    await Promise.resolve();
    expect(reader.hasData()).toBe(true);
    reader.poll(() => {});
    const waiting = reader.ready();
    const big = Buffer.alloc(ring.maxRecordSize * 2 + 10, 7);
    publisher.publish(1, [session.id], big, true);
    expect(reader.hasData()).toBe(false);
    await expect(waiting).resolves.toBe(true);
    let records = 0;
    reader.poll(() => {
      records++;
    });
    expect(records).toBe(3);
    expect(wakes).toEqual([session.readerSlot]);
  });
});
