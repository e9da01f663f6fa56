import { describe, expect, it } from 'vitest';
import {
  BadUtf8Error,
  ControlStreamDecoder,
  DaemonErrorCode,
  decodeControlFrame,
  decodeText,
  encodeControlFrame,
  isDaemonErrorCode,
  MalformedFrameError,
  OverLimitError,
  ProtocolError,
  ProtocolErrorCode,
  redactControlMessage,
} from '../src/index.js';

describe('redactControlMessage', () => {
  it('hides secrets and header values, keeps what was asked', () => {
    const open = decodeControlFrame(
      encodeControlFrame({
        type: 'open',
        requestId: 1,
        url: 'wss://example/',
        adapter: 'alpaca',
        headers: [['Authorization', 'Bearer t0ken']],
        credentials: { key: 'PK1', secret: 'hunter2' },
      }),
    );
    const logged = JSON.stringify(redactControlMessage(open));
    expect(logged).not.toContain('hunter2');
    expect(logged).not.toContain('t0ken');
    expect(logged).toContain('wss://example/');
    expect(logged).toContain('PK1');
    expect(redactControlMessage({ type: 'ok', requestId: 2 })).toEqual({ type: 'ok', requestId: 2 });
  });
});

describe('text payloads', () => {
  it('decodeText is strict', () => {
    expect(decodeText(new TextEncoder().encode('héllo'))).toBe('héllo');
    expect(() => decodeText(Uint8Array.of(0x68, 0xc3))).toThrow(BadUtf8Error);
  });

  it('a control string with invalid UTF-8 is refused with its field named', () => {
    const frame = encodeControlFrame({ type: 'error', requestId: 1, code: 'ABCD', message: '' });
    frame[frame.length - 3] = 0xff; // inside "ABCD"
    expect(() => decodeControlFrame(frame)).toThrow(BadUtf8Error);
    expect(() => decodeControlFrame(frame)).toThrow(/code/);
  });
});

describe('errors', () => {
  it('every codec error has a stable WSP_PROTO_ code and its own name', () => {
    for (const code of Object.values(ProtocolErrorCode)) expect(code).toMatch(/^WSP_PROTO_[A-Z_0-9]+$/);
    const err = new OverLimitError('maxUrlBytes', 10, 5);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('OverLimitError');
    expect(err.code).toBe('WSP_PROTO_OVER_LIMIT');
    expect(err.message).toBe('maxUrlBytes exceeded: 10 > 5');
  });

  it('the daemon catalogue is one list of distinct WSP_ERR_ codes', () => {
    const codes = Object.values(DaemonErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) {
      expect(code).toMatch(/^WSP_ERR_[A-Z_]+$/);
      expect(isDaemonErrorCode(code)).toBe(true);
    }
    expect(isDaemonErrorCode('WSP_ERR_FROM_THE_FUTURE')).toBe(false);
  });
});

describe('doorbells', () => {
  it('a stream without a doorbell handler (the daemon side) refuses them', () => {
    const decoder = new ControlStreamDecoder({ onMessage: () => {} });
    expect(() => decoder.push(Uint8Array.of(0x07))).toThrow(MalformedFrameError);
  });
});
