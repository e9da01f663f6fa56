import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventually } from './helpers/environment.js';
import { perTestWorld } from './helpers/per-test.js';
import type { StrategyProcess } from './helpers/strategy-process.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('one upstream shared by several processes', () => {
  const world = perTestWorld();

  it('delivers every frame, byte-exact, text and binary, 0 B to 16 MiB, to 3 processes over ONE connection', async () => {
    const strategies: StrategyProcess[] = [];
    for (let i = 0; i < 3; i++) strategies.push((await world.env.connectedStrategy()).strategy);
    const opened = await Promise.all(
      strategies.map((s) =>
        s.call<{ isNew: boolean; connectionId: number }>('open', { tag: 'feed', url: world.upstream.url }),
      ),
    );
    expect(world.upstream.connections).toBe(1);
    expect(opened.filter((o) => o.isNew)).toHaveLength(1);
    expect(new Set(opened.map((o) => o.connectionId)).size).toBe(1);

    const sizes = [0, 1, 125, 126, 65_535, 65_536, 300_000, 1024 * 1024, 16 * 1024 * 1024];
    const frames: Array<{ data: Buffer; binary: boolean }> = [];
    for (const size of sizes) {
      frames.push({ data: randomBytes(size), binary: true });
      // Text frames: valid UTF-8 including multi-byte characters, so a split inside a character would show.
      const text = 'é€😀a'.repeat(Math.ceil(size / 10) + 1);
      frames.push({ data: Buffer.from(text.slice(0, Math.max(0, size)), 'utf8'), binary: false });
    }
    for (const frame of frames)
      world.upstream.broadcast(frame.binary ? frame.data : frame.data.toString('utf8'), frame.binary);

    const expected = frames.map((f) => ({ binary: f.binary, length: f.data.length, sha256: sha256(f.data) }));
    for (const strategy of strategies) {
      await strategy.waitFor(() => strategy.messages('feed').length >= expected.length, 'all frames', 45_000);
      expect(
        strategy
          .messages('feed')
          .map(({ binary, length, sha256: digest }) => ({ binary, length, sha256: digest })),
      ).toEqual(expected);
    }
    expect(world.upstream.connections).toBe(1);

    // Sends from any process reach the one upstream connection, in order.
    await strategies[0]!.call('send', { tag: 'feed', text: 'from-0' });
    await strategies[2]!.call('send', { tag: 'feed', base64: Buffer.from([1, 2, 3]).toString('base64') });
    await eventually(() => world.upstream.received.length === 2, 'both frames upstream');
    expect(world.upstream.received.map((f) => [f.isBinary, f.data.toString('hex')])).toEqual([
      [false, Buffer.from('from-0').toString('hex')],
      [true, '010203'],
    ]);
  });

  it('concurrent opens of one URL from several processes make one upstream; isNew is true exactly once', async () => {
    const strategies = await Promise.all([1, 2, 3, 4, 5].map(() => world.env.connectedStrategy()));
    expect(new Set(strategies.map((s) => s.daemonPid)).size).toBe(1);
    const opened = await Promise.all(
      strategies.map(({ strategy }) =>
        strategy.call<{ isNew: boolean }>('open', { tag: 'feed', url: world.upstream.url }),
      ),
    );
    expect(opened.filter((o) => o.isNew)).toHaveLength(1);
    expect(world.upstream.connections).toBe(1);
  });
});
