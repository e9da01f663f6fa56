import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DoorbellServer, RingWriter } from '../src/index.js';
import { Cleanup } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe.skipIf(process.platform !== 'linux')('permissions', () => {
  it('creates segments 0600 even under a permissive umask', () => {
    const previous = process.umask(0);
    try {
      const writer = RingWriter.create({ name: cleanup.name('perm') });
      cleanup.defer(() => writer.close());
      expect(statSync(`/dev/shm/${writer.name}`).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it('puts the doorbell socket (0600) in a folder it creates 0700, even under a permissive umask, and removes the socket on close', async () => {
    const writer = RingWriter.create({ name: cleanup.name('sock') });
    cleanup.defer(() => writer.close());
    const folder = join(cleanup.dir(), 'nested', 'bells');
    const previous = process.umask(0);
    let doorbell: DoorbellServer;
    try {
      doorbell = await DoorbellServer.listen({ writer, path: join(folder, 'ring.sock') });
    } finally {
      process.umask(previous);
    }
    cleanup.defer(() => doorbell.close());
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(statSync(doorbell.path).mode & 0o777).toBe(0o600);
    await doorbell.close();
    expect(() => statSync(doorbell.path)).toThrow();
  });

  it('refuses a doorbell folder other users can enter', async () => {
    const writer = RingWriter.create({ name: cleanup.name('open-dir') });
    cleanup.defer(() => writer.close());
    const folder = join(cleanup.dir(), 'shared');
    mkdirSync(folder);
    chmodSync(folder, 0o755);
    await expect(DoorbellServer.listen({ writer, path: join(folder, 'ring.sock') })).rejects.toMatchObject({
      code: 'SHMQ_ERR_DOORBELL',
    });
  });

  it('refuses to take over a doorbell socket another writer is listening on', async () => {
    const first = RingWriter.create({ name: cleanup.name('first') });
    const second = RingWriter.create({ name: cleanup.name('second') });
    cleanup.defer(() => first.close());
    cleanup.defer(() => second.close());
    const path = join(cleanup.dir(), 'ring.sock');
    const doorbell = await DoorbellServer.listen({ writer: first, path });
    cleanup.defer(() => doorbell.close());
    await expect(DoorbellServer.listen({ writer: second, path })).rejects.toMatchObject({
      code: 'SHMQ_ERR_DOORBELL',
    });
  });
});
