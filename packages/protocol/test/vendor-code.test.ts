// Protocol version 3's vendor code on `error` responses (type 0x26) and `error` events (kind 6): how they are told
// apart from the version-1 layouts, and that an older peer never sees them unless the daemon chose to send them.
import { describe, expect, it } from 'vitest';
import {
  type ConnectionEvent,
  controlFrameLength,
  DaemonErrorCode,
  decodeControlFrame,
  ERROR_WITH_VENDOR_CODE_KIND,
  ERROR_WITH_VENDOR_CODE_TYPE,
  type ErrorResponse,
  EventKindCode,
  encodeControlFrame,
  InvalidArgumentError,
  MessageTypeCode,
  PROTOCOL_VERSION,
  VENDOR_CODE_VERSION,
} from '../src/index.js';

const failure: ErrorResponse = {
  type: 'error',
  requestId: 4,
  code: DaemonErrorCode.AUTH_FAILED,
  message: 'Alpaca error 402: auth failed',
};

describe('vendor codes', () => {
  it('are spoken by this build', () => {
    expect(PROTOCOL_VERSION).toBeGreaterThanOrEqual(VENDOR_CODE_VERSION);
  });

  it('an error response without one is the version-1 error, byte for byte', () => {
    const plain = encodeControlFrame(failure);
    expect(plain[5]).toBe(MessageTypeCode.error);
    expect(decodeControlFrame(plain)).toEqual(failure);
    expect('vendorCode' in decodeControlFrame(plain)).toBe(false);
  });

  it('an error response with one is type 0x26: the error fields, then a u32', () => {
    const message = { ...failure, vendorCode: 402 };
    const frame = encodeControlFrame(message);
    expect(frame[5]).toBe(ERROR_WITH_VENDOR_CODE_TYPE);
    expect(frame.length).toBe(controlFrameLength(message));
    expect(frame.length - encodeControlFrame(failure).length).toBe(4);
    expect(decodeControlFrame(frame)).toEqual(message);
  });

  it('an error event with one is kind 6; without, kind 2', () => {
    const event: ConnectionEvent = {
      kind: 'error',
      connectionId: 3,
      code: DaemonErrorCode.UPSTREAM_LIMIT,
      message: 'Alpaca error 406: connection limit exceeded',
    };
    const plain = encodeControlFrame({ type: 'event', event });
    const withVendor = encodeControlFrame({ type: 'event', event: { ...event, vendorCode: 406 } });
    // lead + length + type + connection id, then the event kind byte.
    expect(plain[10]).toBe(EventKindCode.error);
    expect(withVendor[10]).toBe(ERROR_WITH_VENDOR_CODE_KIND);
    expect(decodeControlFrame(plain)).toEqual({ type: 'event', event });
    expect(decodeControlFrame(withVendor)).toEqual({ type: 'event', event: { ...event, vendorCode: 406 } });
  });

  it('a vendor code that is not a u32 is refused on encode', () => {
    for (const vendorCode of [-1, 1.5, 2 ** 32, Number.NaN, '402' as unknown as number]) {
      expect(() => encodeControlFrame({ ...failure, vendorCode })).toThrow(InvalidArgumentError);
    }
  });
});
