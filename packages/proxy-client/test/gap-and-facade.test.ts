import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, FAST_DAEMON_ARGS, TestEnvironment } from './helpers/environment.js';
import { UpstreamServer } from './helpers/upstream-server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('slow readers and the callback facade', () => {
  let env: TestEnvironment;
  let upstream: UpstreamServer;

  afterEach(async () => {
    await env.cleanup();
    await upstream.stop();
  });

  describe('with a small ring', () => {
    beforeEach(async () => {
      env = new TestEnvironment([...FAST_DAEMON_ARGS, '--ring-size', String(256 * 1024)]);
      upstream = await new UpstreamServer().start();
    });

    it('a lapped (stopped) reader gets a gap event; the daemon and the other reader go on unaffected', async () => {
      const fast = await env.connectedStrategy();
      const slow = await env.connectedStrategy();
      await fast.strategy.call('open', { tag: 'feed', url: upstream.url });
      await slow.strategy.call('open', { tag: 'feed', url: upstream.url });

      slow.strategy.child.kill('SIGSTOP');
      const count = 2_000;
      const payload = randomBytes(1024);
      // Spread over a few event-loop turns so the fast reader really keeps up while the stopped one is lapped.
      for (let sent = 0; sent < count; sent += 100) {
        for (let i = 0; i < 100; i++) upstream.broadcast(payload);
        await fast.strategy.waitFor(
          () => fast.strategy.messages('feed').length >= sent + 100,
          'fast reader keeps up',
        );
      }
      expect(fast.strategy.messages('feed')).toHaveLength(count);
      expect(fast.strategy.events('gap')).toEqual([]);

      slow.strategy.child.kill('SIGCONT');
      upstream.broadcast('after the gap');
      await slow.strategy.waitFor(
        () => slow.strategy.messages('feed').some((m) => m.length === 'after the gap'.length),
        'slow reader resumes',
      );
      // The lap is reported before the data after it; the messages it cost follow once the daemon has counted.
      const [first] = slow.strategy.events('gap');
      expect(first?.info).toMatchObject({ pending: true, lostMessages: 0 });
      expect((first!.info as { lostRecords: number }).lostRecords).toBeGreaterThan(0);
      const lost = () =>
        slow.strategy
          .events('gap')
          .reduce((sum, gap) => sum + (gap.info as { lostMessages: number }).lostMessages, 0);
      // Everything is accounted for: what arrived plus what was reported lost is what was sent.
      await eventually(
        () => slow.strategy.messages('feed').length - 1 + lost() === count,
        'every message accounted for',
      );
      expect(slow.strategy.messages('feed').length - 1 + lost()).toBe(count);
      const status = await fast.strategy.call<{ clients: Array<{ pid: number; gaps: number }> }>('status');
      expect(status.clients.find((c) => c.pid === slow.strategy.child.pid)!.gaps).toBeGreaterThan(0);
      expect(status.clients.find((c) => c.pid === fast.strategy.child.pid)!.gaps).toBe(0);
    });

    it('a lap over large (fragmented) messages counts messages lost, not ring records', async () => {
      const fast = await env.connectedStrategy();
      const slow = await env.connectedStrategy();
      await fast.strategy.call('open', { tag: 'feed', url: upstream.url });
      await slow.strategy.call('open', { tag: 'feed', url: upstream.url });

      slow.strategy.child.kill('SIGSTOP');
      // 200 KiB each: about four ring records per message on this 256 KiB ring.
      const count = 24;
      for (let sent = 0; sent < count; sent++) {
        upstream.broadcast(randomBytes(200 * 1024));
        await fast.strategy.waitFor(
          () => fast.strategy.messages('feed').length > sent,
          'fast reader keeps up',
        );
      }
      slow.strategy.child.kill('SIGCONT');
      upstream.broadcast('after the gap');
      await slow.strategy.waitFor(
        () => slow.strategy.messages('feed').some((m) => m.length === 'after the gap'.length),
        'slow reader resumes',
      );
      const received = slow.strategy.messages('feed').length - 1;
      const lostMessages = () =>
        slow.strategy
          .events('gap')
          .reduce((sum, gap) => sum + (gap.info as { lostMessages: number }).lostMessages, 0);
      // The count of a lap arrives once the daemon said how many messages it addressed to us.
      await eventually(() => received + lostMessages() === count, 'every message accounted for');
      const lostRecords = slow.strategy
        .events('gap')
        .reduce((sum, gap) => sum + (gap.info as { lostRecords: number }).lostRecords, 0);
      expect(lostMessages()).toBeGreaterThan(0);
      // Records are the lap's measure, named as such: several per lost message here.
      expect(lostRecords).toBeGreaterThan(lostMessages());
    });
  });

  describe('callback facade', () => {
    beforeEach(async () => {
      env = new TestEnvironment();
      upstream = await new UpstreamServer().start();
    });

    it('openWebSocket, subscribe "already existed", fragments with remaining, closeWebSocket(0)', async () => {
      const a = env.strategy();
      const b = env.strategy();
      const opts = { url: upstream.url, connectOptions: env.connectOptions };
      const first = await a.call<{ id: number; isNew: boolean }>('facadeOpen', opts);
      const second = await b.call<{ id: number; isNew: boolean }>('facadeOpen', opts);
      expect([first.isNew, second.isNew]).toEqual([true, false]);
      expect(upstream.connections).toBe(1);

      expect(await a.call('facadeSubscribe', { id: first.id, params: 'sub:AAPL' })).toEqual({
        existed: false,
      });
      expect(await b.call('facadeSubscribe', { id: second.id, params: 'sub:AAPL' })).toEqual({
        existed: true,
      });
      await eventually(() => upstream.received.length === 1, 'subscription upstream');
      expect(upstream.received.map((f) => f.data.toString())).toEqual(['sub:AAPL']);

      // 1 MiB crosses the ring in several fragments; the facade hands each over with the bytes still to come.
      const big = randomBytes(1024 * 1024);
      upstream.broadcast(big);
      for (const strategy of [a, b]) {
        await strategy.waitFor(() => strategy.events('data').some((d) => d.remaining === 0), 'last fragment');
        const pieces = strategy.events('data');
        expect(pieces.length).toBeGreaterThan(1);
        expect(pieces.reduce((sum, d) => sum + (d.length as number), 0)).toBe(big.length);
        // `remaining` counts down to 0 by exactly each piece's length.
        let left = big.length;
        for (const piece of pieces) {
          const offset = big.length - left;
          left -= piece.length as number;
          expect(piece.remaining).toBe(left);
          expect(piece.binary).toBe(true);
          expect(piece.sha256).toBe(sha256(big.subarray(offset, offset + (piece.length as number))));
        }
      }

      const { serverId } = await a.call<{ serverId: number }>('facadeClose', { id: 0 });
      expect(serverId).toBeGreaterThan(0);
      await a.waitFor(() => a.events('closed').length === 1, 'onWebsocketClosed');
      upstream.broadcast('only b');
      await b.waitFor(() => b.events('data').length === a.events('data').length + 1, 'b still receives');
    });
  });
});
