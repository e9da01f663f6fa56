// The SubscriptionBook on its own: the edge cases of one-change-in-flight attribution.
import { describe, expect, it } from 'vitest';
import {
  type ChannelSymbols,
  type CommittedChange,
  FEED_PROFILES,
  SubscriptionBook,
  type SubscriptionRequest,
} from '../src/index.js';

function setup() {
  const sent: [string, Record<string, string[]>][] = [];
  const completed: CommittedChange[] = [];
  const rejected: [number | string, number][] = [];
  const book = new SubscriptionBook(FEED_PROFILES.stocks, {
    sendUpstream: (action, channels: ChannelSymbols) =>
      sent.push([action, Object.fromEntries([...channels].map(([c, s]) => [c, [...s]]))]),
    requestCompleted: (change) => completed.push(change),
    requestRejected: (clientId, code) => rejected.push([clientId, code]),
    routingChanged: () => {},
  });
  book.setUpstreamReady(true);
  return { book, sent, completed, rejected };
}

const req = (
  action: 'subscribe' | 'unsubscribe',
  channels: Record<string, string[]>,
): SubscriptionRequest => ({
  action,
  channels: new Map(Object.entries(channels)),
  snapshot: false,
});

const routed = (book: SubscriptionBook, id: number) =>
  Object.fromEntries([...(book.routingTable().get(id) ?? new Map())].map(([c, s]) => [c, [...s]]));

describe('SubscriptionBook', () => {
  it('a refused unsubscribe gives the client its data back (its set stays as it was)', () => {
    const { book, sent, rejected } = setup();
    book.request(1, req('subscribe', { trades: ['AAPL'] }));
    book.upstreamAcked(new Map([['trades', ['AAPL']]]));
    book.request(1, req('unsubscribe', { trades: ['AAPL'] }));
    expect(routed(book, 1)).toEqual({}); // muted at once
    expect(sent.at(-1)).toEqual(['unsubscribe', { trades: ['AAPL'] }]);
    expect(book.upstreamRejected(400, 'invalid syntax')).toBe(true);
    expect(rejected).toEqual([[1, 400]]);
    expect(routed(book, 1)).toEqual({ trades: ['AAPL'] });
    expect(book.refCount('trades', 'AAPL')).toBe(1);
  });

  it('errors that do not answer a request (407, 500) are not attributed', () => {
    const { book } = setup();
    book.request(1, req('subscribe', { trades: ['AAPL'] }));
    expect(book.upstreamRejected(407, 'slow client')).toBe(false);
    expect(book.busy).toBe(true);
  });

  it('a client that dies with a request in flight: committed on the ack, then released', () => {
    const { book, sent, completed } = setup();
    book.request(1, req('subscribe', { trades: ['AAPL'] }));
    book.request(1, req('subscribe', { quotes: ['MSFT'] })); // queued, dropped when the client is gone
    book.release(1);
    book.upstreamAcked(new Map([['trades', ['AAPL']]]));
    expect(sent).toEqual([
      ['subscribe', { trades: ['AAPL'] }],
      ['unsubscribe', { trades: ['AAPL'] }],
    ]);
    book.upstreamAcked(new Map());
    expect(book.union()).toEqual(new Map());
    expect(completed.map((c) => c.clientId)).toEqual([1]);
    expect(book.clientIds()).toEqual([]);
  });

  it('`*` and explicit symbols are counted apart; duplicates in a request count once', () => {
    const { book, sent } = setup();
    book.request(1, req('subscribe', { trades: ['*', 'AAPL', 'AAPL'] }));
    expect(sent).toEqual([['subscribe', { trades: ['*', 'AAPL'] }]]);
    book.upstreamAcked(new Map([['trades', ['*', 'AAPL']]]));
    book.request(2, req('subscribe', { trades: ['*'] }));
    expect(sent).toHaveLength(1);
    book.request(1, req('unsubscribe', { trades: ['*'] }));
    expect(sent).toHaveLength(1); // client 2 still holds `*`
    expect(book.refCount('trades', '*')).toBe(1);
    expect(book.refCount('trades', 'AAPL')).toBe(1);
  });

  it('nothing goes upstream before the session is authenticated; the queue drains after', () => {
    const sent: string[] = [];
    const book = new SubscriptionBook(FEED_PROFILES.crypto, {
      sendUpstream: (action) => sent.push(action),
      requestCompleted: () => {},
      requestRejected: () => {},
      routingChanged: () => {},
    });
    book.request(1, req('subscribe', { orderbooks: ['BTC/USD'] }));
    expect(sent).toEqual([]);
    book.setUpstreamReady(true);
    expect(sent).toEqual(['subscribe']);
  });
});
