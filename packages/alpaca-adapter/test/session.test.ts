import { decode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { OWNER, SessionHarness, stockAck } from './harness.js';

const trade = (S: string, p: number) => ({
  T: 't',
  S,
  i: p,
  x: 'V',
  p,
  s: 100,
  c: ['@'],
  z: 'C',
  t: '2024-01-02T15:00:00.123456789Z',
});
const quote = (S: string, bp: number) => ({
  T: 'q',
  S,
  bx: 'V',
  bp,
  bs: 1,
  ax: 'V',
  ap: bp + 0.01,
  as: 2,
  c: ['R'],
  z: 'C',
  t: '2024-01-02T15:00:00.2Z',
});

describe('AlpacaSession: authentication', () => {
  it('authenticates upstream once with the owner credentials and answers strategies locally', () => {
    const h = new SessionHarness({ feed: 'stocks' });
    h.connect();
    expect(h.upstream).toEqual([{ action: 'auth', key: OWNER.keyId, secret: OWNER.secretKey }]);
    expect(h.events).toContainEqual({ type: 'upstream-authenticated' });
    h.attach(1, 2);
    h.send(1, { action: 'auth', key: OWNER.keyId, secret: OWNER.secretKey });
    h.send(2, { action: 'auth', key: OWNER.keyId, secret: 'wrong' });
    h.send(1, { action: 'auth', key: OWNER.keyId, secret: OWNER.secretKey });
    expect(h.messages(1)).toEqual([
      { T: 'success', msg: 'authenticated' },
      { T: 'error', code: 403, msg: 'already authenticated' },
    ]);
    expect(h.messages(2)).toEqual([{ T: 'error', code: 402, msg: 'auth failed' }]);
    // Nothing a strategy sent for auth went upstream.
    expect(h.upstream).toHaveLength(1);
  });

  it('greets a client like Alpaca and refuses its subscriptions until it authenticates, when asked to', () => {
    const h = new SessionHarness({ feed: 'stocks' });
    h.connect();
    h.session.onClientAttached(7, { authenticated: false });
    h.send(7, { action: 'subscribe', trades: ['AAPL'] });
    h.send(7, { action: 'authenticate', data: { key_id: OWNER.keyId, secret_key: OWNER.secretKey } });
    expect(h.messages(7)).toEqual([
      { T: 'success', msg: 'connected' },
      { T: 'error', code: 401, msg: 'not authenticated' },
      { T: 'success', msg: 'authenticated' },
    ]);
  });
});

describe('AlpacaSession: subscription book', () => {
  it('sends only changes to the union, one at a time, and acks each client with its own set', () => {
    const h = new SessionHarness({ feed: 'stocks' });
    h.connect();
    h.attach(1, 2, 3);
    h.clear();
    h.send(1, { action: 'subscribe', trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] });
    h.send(2, { action: 'subscribe', trades: ['AAPL', 'TSLA'] });
    // Only the first change is in flight; the second waits for Alpaca's answer.
    expect(h.upstream).toEqual([{ action: 'subscribe', trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] }]);
    h.ack({ trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] });
    expect(h.upstream[1]).toEqual({ action: 'subscribe', trades: ['TSLA'] });
    h.ack({ trades: ['AAPL', 'MSFT', 'TSLA'], quotes: ['AAPL'] });
    // Already in the union: answered locally, nothing upstream.
    h.send(3, { action: 'subscribe', trades: ['MSFT'] });
    expect(h.upstream).toHaveLength(2);

    expect(h.messages(1)).toEqual([stockAck({ trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] })]);
    expect(h.messages(2)).toEqual([stockAck({ trades: ['AAPL', 'TSLA'] })]);
    expect(h.messages(3)).toEqual([stockAck({ trades: ['MSFT'] })]);

    // Unsubscribing what others still hold changes nothing upstream; the last holder's release does.
    h.send(1, { action: 'unsubscribe', trades: ['AAPL', 'MSFT'] });
    expect(h.upstream).toHaveLength(2);
    expect(h.messages(1).at(-1)).toEqual(stockAck({ quotes: ['AAPL'] }));
    h.send(3, { action: 'unsubscribe', trades: ['MSFT'] });
    expect(h.upstream[2]).toEqual({ action: 'unsubscribe', trades: ['MSFT'] });
    h.ack({ trades: ['AAPL', 'TSLA'], quotes: ['AAPL'] });
    expect(h.messages(3).at(-1)).toEqual(stockAck({}));
    expect(h.session.book.stats).toMatchObject({ upstreamRequests: 3, localRequests: 2 });
  });

  it('sends a 405 only to the client that caused it and keeps its set as it was', () => {
    const h = new SessionHarness({ feed: 'stocks' });
    h.connect();
    h.attach(1, 2);
    h.send(1, { action: 'subscribe', trades: ['AAPL'] });
    h.ack({ trades: ['AAPL'] });
    h.clear();
    h.send(1, { action: 'subscribe', trades: ['A1', 'A2'] });
    h.send(2, { action: 'subscribe', quotes: ['AAPL'] });
    h.fromUpstream([{ T: 'error', code: 405, msg: 'symbol limit exceeded' }]);
    expect(h.messages(1)).toEqual([{ T: 'error', code: 405, msg: 'symbol limit exceeded' }]);
    // The next queued request went out only after the error completed the failed one.
    expect(h.upstream).toEqual([
      { action: 'subscribe', trades: ['A1', 'A2'] },
      { action: 'subscribe', quotes: ['AAPL'] },
    ]);
    h.ack({ trades: ['AAPL'], quotes: ['AAPL'] });
    expect(h.messages(2)).toEqual([stockAck({ quotes: ['AAPL'] })]);
    expect([...h.session.subscriptionsOf(1).get('trades')!]).toEqual(['AAPL']);
    expect(h.session.book.union()).toEqual(
      new Map([
        ['trades', new Set(['AAPL'])],
        ['quotes', new Set(['AAPL'])],
      ]),
    );
  });

  it('answers locally what Alpaca would refuse: 410 wrong channel, 413 star on option quotes, 412 JSON options', () => {
    const options = new SessionHarness({ feed: 'options', encoding: 'msgpack' });
    options.connect();
    options.attach(1);
    options.clear();
    const sendMsgpack = (m: unknown) =>
      options.session.onClientMessage(1, Buffer.from(JSON.stringify(m)), false);
    sendMsgpack({ action: 'subscribe', trades: ['AAPL240315C00172500'] });
    expect(options.messages(1)).toEqual([
      { T: 'error', code: 412, msg: 'option messages are only available in MsgPack format' },
    ]);
    const stocks = new SessionHarness({ feed: 'crypto' });
    stocks.connect();
    stocks.attach(1);
    stocks.clear();
    stocks.send(1, { action: 'subscribe', lulds: ['BTC/USD'] });
    stocks.send(1, { action: 'subscribe', trades: 'BTC/USD' });
    expect(stocks.messages(1)).toEqual([
      { T: 'error', code: 410, msg: 'invalid subscribe action for this feed' },
      { T: 'error', code: 400, msg: 'invalid syntax' },
    ]);
    expect(stocks.upstream).toEqual([]);
  });

  it('treats `*` as its own key and acks crypto sets in the crypto shape', () => {
    const h = new SessionHarness({ feed: 'crypto' });
    h.connect();
    h.attach(1, 2);
    h.clear();
    h.send(1, { action: 'subscribe', trades: ['*'], orderbooks: ['BTC/USD'] });
    h.ack({ trades: ['*'], quotes: [], orderbooks: ['BTC/USD'], bars: [], updatedBars: [], dailyBars: [] });
    h.send(2, { action: 'subscribe', trades: ['ETH/USD'] });
    expect(h.upstream.at(-1)).toEqual({ action: 'subscribe', trades: ['ETH/USD'] });
    h.ack({
      trades: ['*', 'ETH/USD'],
      quotes: [],
      orderbooks: ['BTC/USD'],
      bars: [],
      updatedBars: [],
      dailyBars: [],
    });
    expect(h.messages(1)[0]).toEqual({
      T: 'subscription',
      trades: ['*'],
      quotes: [],
      orderbooks: ['BTC/USD'],
      bars: [],
      updatedBars: [],
      dailyBars: [],
    });
    h.fromUpstream([
      { T: 't', S: 'ETH/USD', p: 2000, s: 1, tks: 'B', i: 1, t: '2024-01-02T15:00:00Z' },
      { T: 't', S: 'SOL/USD', p: 100, s: 1, tks: 'S', i: 2, t: '2024-01-02T15:00:00Z' },
    ]);
    expect(
      h
        .messages(1)
        .filter((m) => m.T === 't')
        .map((m) => m.S),
    ).toEqual(['ETH/USD', 'SOL/USD']);
    expect(
      h
        .messages(2)
        .filter((m) => m.T === 't')
        .map((m) => m.S),
    ).toEqual(['ETH/USD']);
  });

  it('stops delivering a symbol the moment a client asks to unsubscribe it', () => {
    const h = new SessionHarness({ feed: 'stocks' });
    h.connect();
    h.attach(1, 2);
    h.send(1, { action: 'subscribe', trades: ['AAPL', 'MSFT'] });
    h.ack({ trades: ['AAPL', 'MSFT'] });
    h.send(2, { action: 'subscribe', quotes: ['TSLA'] });
    // client 2's change is in flight; client 1's unsubscribe must wait for it, but its data stops now.
    h.send(1, { action: 'unsubscribe', trades: ['MSFT'] });
    h.clear();
    h.fromUpstream([trade('MSFT', 1), trade('AAPL', 2)]);
    expect(h.messages(1).map((m) => m.S)).toEqual(['AAPL']);
    h.ack({ trades: ['AAPL', 'MSFT'], quotes: ['TSLA'] });
    expect(h.upstream.at(-1)).toEqual({ action: 'unsubscribe', trades: ['MSFT'] });
  });

  it('releases a dead client: what nobody else wants is unsubscribed upstream', () => {
    const h = new SessionHarness({ feed: 'stocks' });
    h.connect();
    h.attach(1, 2);
    h.send(1, { action: 'subscribe', trades: ['AAPL', 'MSFT'] });
    h.ack({ trades: ['AAPL', 'MSFT'] });
    h.send(2, { action: 'subscribe', trades: ['AAPL'] });
    h.clear();
    h.session.onClientGone(1);
    expect(h.upstream).toEqual([{ action: 'unsubscribe', trades: ['MSFT'] }]);
    h.ack({ trades: ['AAPL'] });
    h.fromUpstream([trade('AAPL', 3)]);
    expect(h.deliveries.at(-1)!.recipients).toEqual([2]);
  });

  it('after an upstream drop: re-authenticates, resubscribes the union, then retries what was in flight', () => {
    const h = new SessionHarness({ feed: 'stocks' });
    h.connect();
    h.attach(1, 2);
    h.send(1, { action: 'subscribe', trades: ['AAPL'] });
    h.ack({ trades: ['AAPL'] });
    h.send(2, { action: 'subscribe', quotes: ['MSFT'] }); // in flight when the session dies
    h.clear();
    h.session.onUpstreamClosed();
    h.connect();
    expect(h.upstream).toEqual([
      { action: 'auth', key: OWNER.keyId, secret: OWNER.secretKey },
      { action: 'subscribe', trades: ['AAPL'] },
    ]);
    h.ack({ trades: ['AAPL'] });
    expect(h.events).toContainEqual({
      type: 'resubscribed',
      union: new Map([
        ['trades', ['AAPL']],
        ['corrections', ['AAPL']],
        ['cancelErrors', ['AAPL']],
        ['quotes', []],
        ['bars', []],
        ['updatedBars', []],
        ['dailyBars', []],
        ['statuses', []],
        ['lulds', []],
        ['imbalances', []],
      ]),
    });
    expect(h.upstream.at(-1)).toEqual({ action: 'subscribe', quotes: ['MSFT'] });
    h.ack({ trades: ['AAPL'], quotes: ['MSFT'] });
    expect(h.messages(2)).toEqual([stockAck({ quotes: ['MSFT'] })]);
  });

  it('passes a 407 slow-client warning to every client', () => {
    const h = new SessionHarness({ feed: 'stocks' });
    h.connect();
    h.attach(1, 2);
    h.fromUpstream([{ T: 'error', code: 407, msg: 'slow client' }]);
    expect(h.messages(1)).toEqual([{ T: 'error', code: 407, msg: 'slow client' }]);
    expect(h.messages(2)).toEqual([{ T: 'error', code: 407, msg: 'slow client' }]);
    expect(h.events).toContainEqual({ type: 'slow-client-warning' });
  });
});

describe('AlpacaSession: late joiners', () => {
  it('replays the latest trade and quote, byte for byte, to a client joining a symbol others have', () => {
    const h = new SessionHarness({ feed: 'stocks' });
    h.connect();
    h.attach(1, 2);
    h.send(1, { action: 'subscribe', trades: ['AAPL'], quotes: ['AAPL'] });
    h.ack({ trades: ['AAPL'], quotes: ['AAPL'] });
    const latestTrade = JSON.stringify(trade('AAPL', 190.5));
    const latestQuote = JSON.stringify(quote('AAPL', 190.4));
    h.session.onUpstreamMessage(
      Buffer.from(`[${JSON.stringify(trade('AAPL', 190))},${latestQuote},${latestTrade}]`),
      false,
    );
    h.clear();
    h.send(2, { action: 'subscribe', trades: ['AAPL'], quotes: ['AAPL'] });
    expect(h.upstream).toEqual([]);
    const frames = h.deliveries.filter((d) => d.recipients.includes(2)).map((d) => d.bytes.toString());
    expect(frames).toEqual([
      JSON.stringify([stockAck({ trades: ['AAPL'], quotes: ['AAPL'] })]),
      `[${latestTrade},${latestQuote}]`,
    ]);
  });

  it('synthesises an r:true order-book snapshot (msgpack) from the reset and deltas seen so far', () => {
    const h = new SessionHarness({ feed: 'crypto', encoding: 'msgpack' });
    h.connect();
    h.attach(1, 2);
    h.send(1, { action: 'subscribe', orderbooks: ['BTC/USD'] });
    h.ack({ trades: [], quotes: [], orderbooks: ['BTC/USD'], bars: [], updatedBars: [], dailyBars: [] });
    h.fromUpstream([
      {
        T: 'o',
        S: 'BTC/USD',
        t: new Date('2024-01-02T15:00:00.000Z'),
        b: [
          { p: 100, s: 1 },
          { p: 99, s: 2 },
        ],
        a: [
          { p: 101, s: 1 },
          { p: 102, s: 3 },
        ],
        r: true,
      },
    ]);
    h.fromUpstream([
      {
        T: 'o',
        S: 'BTC/USD',
        t: new Date('2024-01-02T15:00:01.000Z'),
        b: [
          { p: 99, s: 0 },
          { p: 98, s: 5 },
        ],
        a: [{ p: 100.5, s: 4 }],
      },
    ]);
    h.clear();
    h.session.onClientMessage(
      2,
      Buffer.from(encodeMsg({ action: 'subscribe', orderbooks: ['BTC/USD'] })),
      true,
    );
    const frames = h.deliveries
      .filter((d) => d.recipients.includes(2))
      .map((d) => decode(d.bytes) as unknown[]);
    expect(frames[0]).toEqual([
      {
        T: 'subscription',
        trades: [],
        quotes: [],
        orderbooks: ['BTC/USD'],
        bars: [],
        updatedBars: [],
        dailyBars: [],
      },
    ]);
    expect(frames[1]).toEqual([
      {
        T: 'o',
        S: 'BTC/USD',
        t: new Date('2024-01-02T15:00:01.000Z'),
        b: [
          { p: 100, s: 1 },
          { p: 98, s: 5 },
        ],
        a: [
          { p: 100.5, s: 4 },
          { p: 101, s: 1 },
          { p: 102, s: 3 },
        ],
        r: true,
      },
    ]);
    expect(h.deliveries.filter((d) => d.recipients.includes(2)).every((d) => d.isBinary)).toBe(true);
  });
});

import { encode as encodeMsg } from '@msgpack/msgpack';
