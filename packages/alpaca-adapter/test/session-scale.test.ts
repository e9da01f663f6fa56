// Issue 15, item 3: thousands of endpoint clients subscribing, then vanishing, between two upstream frames. Each
// change rebuilt the router's whole index (O(clients)), so 3,000 of them cost O(clients²) — seconds of blocked event
// loop in the daemon, during which `status`, the ring and the dead peers' sockets all waited.
import { describe, expect, it } from 'vitest';
import { OWNER, SessionHarness } from './harness.js';

const CLIENTS = 3_000;
const trade = (S: string, i: number) => ({ T: 't', S, i, x: 'V', p: 1, s: 1, c: ['@'], z: 'C', t: 'x' });

describe('AlpacaSession at endpoint scale', () => {
  it('takes 3,000 clients subscribing and leaving in linear time, routing each frame to exactly the subscribers', () => {
    const h = new SessionHarness({ feed: 'stocks' });
    h.connect();
    const ids = Array.from({ length: CLIENTS }, (_, k) => k + 1);
    h.attach(...ids);
    h.clear();
    const started = performance.now();
    for (const id of ids) {
      h.send(id, { action: 'auth', key: OWNER.keyId, secret: OWNER.secretKey });
      h.send(id, { action: 'subscribe', trades: ['AAPL', 'MSFT', 'GOOG'], quotes: ['AAPL', 'GOOG'] });
    }
    // One change went upstream; once Alpaca acks it, every other client is answered locally.
    expect(h.upstream).toEqual([
      { action: 'subscribe', trades: ['AAPL', 'MSFT', 'GOOG'], quotes: ['AAPL', 'GOOG'] },
    ]);
    h.ack({ trades: ['AAPL', 'MSFT', 'GOOG'], quotes: ['AAPL', 'GOOG'] });
    const subscribedMs = performance.now() - started;
    h.clear();
    h.fromUpstream([trade('AAPL', 1)]);
    expect(h.deliveries).toHaveLength(1);
    expect(h.deliveries[0]!.recipients).toEqual(ids);

    // All but the last leave at once; the next frame reaches only the one left.
    const leaving = performance.now();
    for (const id of ids.slice(0, -1)) h.session.onClientGone(id);
    const leftMs = performance.now() - leaving;
    h.clear();
    h.fromUpstream([trade('MSFT', 2)]);
    expect(h.deliveries.map((d) => d.recipients)).toEqual([[CLIENTS]]);
    // Linear work is a few tens of ms even on a loaded machine; one index rebuild per change took many seconds.
    expect(subscribedMs).toBeLessThan(2_000);
    expect(leftMs).toBeLessThan(2_000);
  });
});
