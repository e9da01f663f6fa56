// Every limit is enforced on both sides: the encoder refuses to produce what a peer must refuse, and the decoder
// refuses a claimed length before reading or allocating anything for it.
import { describe, expect, it } from 'vitest';
import {
  BadUtf8Error,
  BufferTooSmallError,
  type ControlMessage,
  ControlStreamDecoder,
  DEFAULT_LIMITS,
  decodeControlBody,
  decodeControlFrame,
  decodeRingRecord,
  encodeControlFrame,
  encodeControlFrameInto,
  encodeDataRecord,
  encodeDataRecordInto,
  encodeEventRecord,
  encodeEventRecordInto,
  InvalidArgumentError,
  OverLimitError,
  type ProtocolLimits,
  resolveLimits,
  TruncatedFrameError,
  WIRE_CEILINGS,
} from '../src/index.js';

const small = resolveLimits({
  maxUrlBytes: 16,
  maxHeaderCount: 2,
  maxHeaderBytes: 20,
  maxStringBytes: 8,
  maxPayloadBytes: 32,
  maxParamsBytes: 8,
  maxStatusBytes: 64,
  maxReaderSlots: 16,
  maxFrameBytes: 100,
});

const open = (over: Partial<Extract<ControlMessage, { type: 'open' }>>): ControlMessage => ({
  type: 'open',
  requestId: 1,
  url: 'ws://a/',
  adapter: '',
  headers: [],
  credentials: null,
  ...over,
});

/** Encoded with generous limits, so only the decoder's (small) limits are under test. */
const generous = resolveLimits({ maxFrameBytes: 1 << 20 });

interface Case {
  name: string;
  limit: keyof ProtocolLimits;
  message: ControlMessage;
}

const cases: Case[] = [
  { name: 'url', limit: 'maxUrlBytes', message: open({ url: `ws://${'a'.repeat(20)}` }) },
  {
    name: 'header count',
    limit: 'maxHeaderCount',
    message: open({
      headers: [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ],
    }),
  },
  {
    name: 'header bytes',
    limit: 'maxHeaderBytes',
    message: open({ headers: [['a'.repeat(12), 'b'.repeat(12)]] }),
  },
  { name: 'adapter name', limit: 'maxStringBytes', message: open({ adapter: 'passthrough-plus' }) },
  {
    name: 'credentials',
    limit: 'maxStringBytes',
    message: open({ credentials: { key: 'k', secret: 'x'.repeat(9) } }),
  },
  {
    name: 'send payload',
    limit: 'maxPayloadBytes',
    message: { type: 'send', requestId: 1, connectionId: 1, binary: true, payload: new Uint8Array(33) },
  },
  {
    name: 'subscribe params',
    limit: 'maxParamsBytes',
    message: { type: 'subscribe', requestId: 1, connectionId: 1, params: new Uint8Array(9) },
  },
  {
    name: 'adapter reply',
    limit: 'maxParamsBytes',
    message: { type: 'subscribed', requestId: 1, alreadySubscribed: false, reply: new Uint8Array(9) },
  },
  {
    name: 'error message',
    limit: 'maxStringBytes',
    message: { type: 'error', requestId: 1, code: 'X', message: 'ééééé' },
  },
  {
    name: 'reader slot',
    limit: 'maxReaderSlots',
    message: {
      type: 'welcome',
      version: 1,
      clientId: 1,
      daemonPid: 1,
      daemonVersion: '1',
      ringName: 'r',
      readerSlot: 16,
    },
  },
  {
    name: 'status report',
    limit: 'maxStatusBytes',
    message: {
      type: 'statusReport',
      requestId: 1,
      status: {
        daemon: { pid: 1, version: '1', protocolVersion: 1, uptimeMs: 0, logLevel: 'info' },
        ring: { name: 'r', capacityBytes: 1, usedBytes: 0, fill: 0, recordsWritten: 0 },
        clients: [],
        upstreams: [],
      },
    },
  },
  {
    name: 'event reason',
    limit: 'maxStringBytes',
    message: { type: 'event', event: { kind: 'closed', connectionId: 1, code: 1000, reason: 'going away' } },
  },
];

describe('control limits', () => {
  for (const c of cases) {
    it(`${c.name}: refused on encode and on decode with ${c.limit}`, () => {
      const encode = () => encodeControlFrame(c.message, small);
      expect(encode).toThrow(OverLimitError);
      try {
        encode();
      } catch (err) {
        expect((err as OverLimitError).code).toBe('WSP_PROTO_OVER_LIMIT');
        expect((err as OverLimitError).limit).toBe(c.limit);
      }
      const frame = encodeControlFrame(c.message, generous);
      const decode = () => decodeControlFrame(frame, { ...small, maxFrameBytes: 1 << 20 });
      expect(decode).toThrow(OverLimitError);
      try {
        decode();
      } catch (err) {
        expect((err as OverLimitError).limit).toBe(c.limit);
      }
      // The same frame is fine under the defaults.
      expect(decodeControlFrame(frame)).toEqual(c.message);
    });
  }

  it('frame size: a body over maxFrameBytes is refused on encode, decode and in the stream', () => {
    const message: ControlMessage = {
      type: 'send',
      requestId: 1,
      connectionId: 1,
      binary: true,
      payload: new Uint8Array(30),
    };
    const tight = resolveLimits({ maxFrameBytes: 20 });
    expect(() => encodeControlFrame(message, tight)).toThrow(OverLimitError);
    const frame = encodeControlFrame(message);
    expect(() => decodeControlFrame(frame, tight)).toThrow(OverLimitError);
    const decoder = new ControlStreamDecoder({ onMessage: () => {} }, { limits: { maxFrameBytes: 20 } });
    // Only the 5-byte header is needed to refuse it: the body is never waited for.
    expect(() => decoder.push(frame.subarray(0, 5))).toThrow(OverLimitError);
  });
});

describe('claimed lengths are verified before use', () => {
  it('a stream header claiming ~4 GiB buffers only what arrived', () => {
    const decoder = new ControlStreamDecoder(
      { onMessage: () => {} },
      { limits: { maxFrameBytes: WIRE_CEILINGS.maxFrameBytes } },
    );
    const before = process.memoryUsage().arrayBuffers;
    decoder.push(Uint8Array.of(0x57, 0xfe, 0xff, 0xff, 0xff, 0x10, 1, 2));
    decoder.push(Uint8Array.of(3, 4));
    expect(decoder.bufferedBytes).toBe(10);
    // Nothing near the claimed size was allocated (a 4 GiB buffer would show up here, or fail outright).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    expect(() => decoder.end()).toThrow(TruncatedFrameError);
  });

  it('a byte field claiming 4 GiB inside a small frame is a truncation, not an allocation', () => {
    const huge = resolveLimits({ maxPayloadBytes: WIRE_CEILINGS.maxPayloadBytes });
    // send: type, requestId, connectionId, binary, then a u32 payload length of 0xffffffff and 3 bytes.
    const body = Uint8Array.of(0x12, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 1, 2, 3);
    expect(() => decodeControlBody(body, huge)).toThrow(TruncatedFrameError);
    expect(() => decodeControlBody(body)).toThrow(OverLimitError);
  });

  it('a header count of 65535 with no headers is refused before any header is read', () => {
    const body = Uint8Array.of(0x10, 1, 0, 0, 0, 1, 0, 0x61, 0, 0, 0xff, 0xff);
    expect(() => decodeControlBody(body)).toThrow(OverLimitError);
    const many = resolveLimits({ maxHeaderCount: 0xffff });
    expect(() => decodeControlBody(body, many)).toThrow(TruncatedFrameError);
  });

  it('a ring record claiming a huge payload is refused by limit, or as truncated when the limit allows it', () => {
    const record = encodeDataRecord({
      connectionId: 1,
      binary: true,
      recipients: [1],
      payload: Uint8Array.of(9),
    });
    record.set([0xff, 0xff, 0xff, 0x7f], 8);
    expect(() => decodeRingRecord(record)).toThrow(OverLimitError);
    expect(() =>
      decodeRingRecord(record, resolveLimits({ maxPayloadBytes: WIRE_CEILINGS.maxPayloadBytes })),
    ).toThrow(TruncatedFrameError);
  });
});

describe('ring record limits', () => {
  it('payload, fragment total and reader slots are refused on encode and on decode', () => {
    const payload = new Uint8Array(33);
    expect(() => encodeDataRecord({ connectionId: 1, binary: true, recipients: [], payload }, small)).toThrow(
      OverLimitError,
    );
    expect(() =>
      decodeRingRecord(encodeDataRecord({ connectionId: 1, binary: true, recipients: [], payload }), small),
    ).toThrow(OverLimitError);

    const fragment = { messageId: 1, offset: 0, remaining: 40 };
    const frag = { connectionId: 1, binary: true, recipients: [1], payload: Uint8Array.of(1), fragment };
    expect(() => encodeDataRecord(frag, small)).toThrow(OverLimitError);
    expect(() => decodeRingRecord(encodeDataRecord(frag), small)).toThrow(OverLimitError);

    const far = { connectionId: 1, binary: true, recipients: [16], payload: Uint8Array.of(1) };
    expect(() => encodeDataRecord(far, small)).toThrow(OverLimitError);
    expect(() => decodeRingRecord(encodeDataRecord(far), small)).toThrow(OverLimitError);
    const wide = {
      connectionId: 1,
      binary: true,
      recipients: Array.from({ length: 40 }, (_, i) => i),
      payload: Uint8Array.of(1),
    };
    expect(() => decodeRingRecord(encodeDataRecord(wide), small)).toThrow(OverLimitError);
  });

  it('1024 clients fit under the default limits, as a 128-byte bitset', () => {
    const all = Array.from({ length: 1024 }, (_, i) => i);
    const bytes = encodeDataRecord({
      connectionId: 1,
      binary: false,
      recipients: all,
      payload: Uint8Array.of(0x7b),
    });
    expect(bytes.length).toBe(12 + 128 + 1);
    const record = decodeRingRecord(bytes);
    expect(record.recipientSlots()).toEqual(all);
  });
});

describe('encoder arguments', () => {
  it('refuses a buffer too small, leaving no partial claim of success', () => {
    const message: ControlMessage = { type: 'ok', requestId: 1 };
    expect(() => encodeControlFrameInto(new Uint8Array(9), 0, message)).toThrow(BufferTooSmallError);
    expect(() => encodeControlFrameInto(new Uint8Array(10), 1, message)).toThrow(BufferTooSmallError);
    expect(encodeControlFrameInto(new Uint8Array(10), 0, message)).toBe(10);
    const init = { connectionId: 1, binary: true, recipients: [1], payload: new Uint8Array(10) };
    expect(() => encodeDataRecordInto(new Uint8Array(20), 0, init)).toThrow(BufferTooSmallError);
  });

  it('refuses lone surrogates, which UTF-8 cannot carry', () => {
    expect(() => encodeControlFrame({ type: 'error', requestId: 1, code: 'X', message: 'a\ud800b' })).toThrow(
      BadUtf8Error,
    );
  });

  it('refuses out-of-range numbers and reserved ids', () => {
    expect(() => encodeControlFrame({ type: 'ok', requestId: -1 })).toThrow(InvalidArgumentError);
    expect(() => encodeControlFrame({ type: 'ok', requestId: 2 ** 32 })).toThrow(InvalidArgumentError);
    expect(() => encodeControlFrame({ type: 'opened', requestId: 1, connectionId: 0, isNew: true })).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      encodeDataRecord({ connectionId: 0, binary: true, recipients: [1], payload: new Uint8Array(1) }),
    ).toThrow(InvalidArgumentError);
    expect(() =>
      encodeDataRecord({ connectionId: 1, binary: true, recipients: [1.5], payload: new Uint8Array(1) }),
    ).toThrow(InvalidArgumentError);
  });

  it('refuses malformed messages with InvalidArgumentError, also where only their size is computed', () => {
    const open = { type: 'open', requestId: 1, url: 'ws://x', adapter: '', credentials: null } as const;
    const malformed = [
      { ...open, headers: [null] },
      { type: 'event', event: null },
      { type: 'statusReport', requestId: 1, status: { big: 1n } },
    ];
    for (const message of malformed) {
      expect(() => encodeControlFrame(message as never)).toThrow(InvalidArgumentError);
      expect(() => encodeControlFrameInto(new Uint8Array(256), 0, message as never)).toThrow(
        InvalidArgumentError,
      );
    }
    expect(() => encodeEventRecord(null as never, [1])).toThrow(InvalidArgumentError);
    expect(() => encodeEventRecordInto(new Uint8Array(64), 0, null as never, [1])).toThrow(
      InvalidArgumentError,
    );
    expect(() => encodeDataRecord({ connectionId: 1, binary: true, recipients: [1] } as never)).toThrow(
      InvalidArgumentError,
    );
  });

  it('resolveLimits validates overrides against the wire ceilings', () => {
    expect(resolveLimits({})).toEqual(DEFAULT_LIMITS);
    expect(resolveLimits({ maxUrlBytes: 100 }).maxUrlBytes).toBe(100);
    expect(() => resolveLimits({ maxUrlBytes: 70_000 })).toThrow(InvalidArgumentError);
    expect(() => resolveLimits({ maxReaderSlots: 0 })).toThrow(InvalidArgumentError);
    expect(() => resolveLimits({ nope: 1 } as Partial<ProtocolLimits>)).toThrow(InvalidArgumentError);
    expect(() => resolveLimits({ toString: 1 } as unknown as Partial<ProtocolLimits>)).toThrow(
      InvalidArgumentError,
    );
  });
});
