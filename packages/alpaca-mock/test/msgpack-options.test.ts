import { afterEach, describe, expect, it } from 'vitest';
import { decodeFrame, encodeMsgpack, NanoTime, startAlpacaMock } from '../src/index.js';
import { AlpacaClient, Cleanup, isData, type TimeSpec } from './client.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const OPTION = 'AAPL240315C00172500';

describe('decodeFrame', () => {
  it('decodes both encodings and refuses anything else with FrameDecodeError', () => {
    expect(decodeFrame('[{"T":"t"}]', 'json')).toEqual([{ T: 't' }]);
    expect(decodeFrame(encodeMsgpack([{ T: 'q' }]), 'msgpack')).toEqual([{ T: 'q' }]);
    for (const [data, encoding] of [
      ['[{"T":', 'json'],
      [Uint8Array.of(0xc1), 'msgpack'],
      [Uint8Array.of(0x92, 0x01), 'msgpack'],
    ] as const) {
      expect(() => decodeFrame(data, encoding)).toThrow(
        expect.objectContaining({ name: 'FrameDecodeError', code: 'ALPACA_MOCK_ERR_DECODE', encoding }),
      );
    }
  });
});

describe('msgpack', () => {
  it('speaks msgpack in binary frames when the upgrade asks for it, with T first and timestamp extensions', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100 }));
    // The client encodes its auth and subscribe in msgpack too, as the official SDKs do.
    const client = cleanup.add(
      await AlpacaClient.authenticated(`${mock.url}/v2/iex`, { encoding: 'msgpack' }),
    );
    expect(client.frames.every((f) => f.binary)).toBe(true);
    const ack = await client.request({ action: 'subscribe', trades: ['AAPL'], quotes: ['AAPL'] });
    expect(ack).toMatchObject({ T: 'subscription', trades: ['AAPL'], corrections: ['AAPL'] });
    const data = await client.collect(isData, 10);
    for (const m of [ack, ...data]) expect(Object.keys(m)[0]).toBe('T');
    for (const m of data) {
      // Decoded through the type -1 extension only: a string here would mean the wrong encoding.
      const t = m.t as TimeSpec;
      expect(typeof t.sec).toBe('number');
      expect(typeof t.nsec).toBe('number');
    }
    // Exactly the nanoseconds the mock recorded as sent.
    const session = mock.sessions({ endpoint: 'v2/iex' })[0];
    const sent = session?.sentData() as { t: NanoTime }[];
    const received = data.map((m) => m.t as TimeSpec);
    expect(received.slice(0, 5)).toEqual(sent.slice(0, 5).map((m) => ({ sec: m.t.sec, nsec: m.t.nsec })));
    expect(received.some((t) => t.nsec % 1_000_000 !== 0)).toBe(true);
  });
});

describe('options feeds', () => {
  it('refuse JSON with 412', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(await AlpacaClient.connect(`${mock.url}/v1beta1/indicative`));
    expect(await client.next()).toEqual({
      T: 'error',
      code: 412,
      msg: 'option messages are only available in MsgPack format',
    });
    await client.closed;
  });

  it('serve option trades and quotes in msgpack, with c as a single string', async () => {
    const mock = cleanup.add(await startAlpacaMock({ rate: 100 }));
    const client = cleanup.add(
      await AlpacaClient.authenticated(`${mock.url}/v1beta1/opra`, { encoding: 'msgpack' }),
    );
    expect(await client.request({ action: 'subscribe', trades: [OPTION], quotes: [OPTION] })).toEqual({
      T: 'subscription',
      trades: [OPTION],
      quotes: [OPTION],
    });
    const data = await client.collect(isData, 6);
    expect(new Set(data.map((m) => m.T))).toEqual(new Set(['t', 'q']));
    for (const m of data) {
      expect(m.S).toBe(OPTION);
      expect(typeof m.c).toBe('string');
    }
  });

  it('answer * on option quotes with 413, bars with 410 and a non-OCC symbol with 400', async () => {
    const mock = cleanup.add(await startAlpacaMock());
    const client = cleanup.add(
      await AlpacaClient.authenticated(`${mock.url}/v1beta1/indicative`, { encoding: 'msgpack' }),
    );
    expect(await client.request({ action: 'subscribe', quotes: ['*'] })).toEqual({
      T: 'error',
      code: 413,
      msg: 'star subscription is not allowed for option quotes',
    });
    expect(await client.request({ action: 'subscribe', bars: [OPTION] })).toMatchObject({ code: 410 });
    expect(await client.request({ action: 'subscribe', trades: ['AAPL'] })).toMatchObject({ code: 400 });
    // * is fine for option trades.
    expect(await client.request({ action: 'subscribe', trades: ['*'] })).toEqual({
      T: 'subscription',
      trades: ['*'],
      quotes: [],
    });
  });
});

describe('NanoTime', () => {
  it('round-trips RFC-3339 with nanoseconds', () => {
    const t = NanoTime.parse('2024-01-02T14:30:00.000000123Z');
    expect(t.nsec).toBe(123);
    expect(t.toString()).toBe('2024-01-02T14:30:00.000000123Z');
    expect(t.plusNanos(999_999_877).toString()).toBe('2024-01-02T14:30:01Z');
  });
});
