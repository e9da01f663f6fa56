// Protocol version 2's `open` with `adapterModule` (type 0x17): how it is told apart from a version-1 open, and
// what a decoder refuses. The byte layout itself is pinned by the golden vector open-with-module.hex.
import { describe, expect, it } from 'vitest';
import {
  ADAPTER_MODULE_VERSION,
  controlFrameLength,
  decodeControlFrame,
  encodeControlFrame,
  InvalidArgumentError,
  MalformedFrameError,
  MessageTypeCode,
  OPEN_WITH_MODULE_TYPE,
  type OpenRequest,
  PROTOCOL_VERSION,
  SUPPORTED_VERSIONS,
} from '../src/index.js';

const open: OpenRequest = {
  type: 'open',
  requestId: 9,
  url: 'ws://127.0.0.1:9/',
  adapter: 'alpaca',
  headers: [],
  credentials: null,
};

describe('open with adapterModule', () => {
  it('is spoken by this build, which still negotiates down to version 1', () => {
    expect(PROTOCOL_VERSION).toBeGreaterThanOrEqual(ADAPTER_MODULE_VERSION);
    expect(SUPPORTED_VERSIONS.min).toBe(1);
  });

  it('without a module (absent or empty) is the version-1 open, byte for byte', () => {
    const plain = encodeControlFrame(open);
    expect(plain[5]).toBe(MessageTypeCode.open);
    expect(encodeControlFrame({ ...open, adapterModule: '' })).toEqual(plain);
    expect(decodeControlFrame(plain)).toEqual(open);
    expect('adapterModule' in decodeControlFrame(plain)).toBe(false);
  });

  it('with a module is type 0x17: the open fields, then the module', () => {
    const message = { ...open, adapterModule: '/opt/adapters/alpaca/daemon.js' };
    const frame = encodeControlFrame(message);
    expect(frame[5]).toBe(OPEN_WITH_MODULE_TYPE);
    expect(frame.length).toBe(controlFrameLength(message));
    expect(frame.length - encodeControlFrame(open).length).toBe(2 + message.adapterModule.length);
    expect(decodeControlFrame(frame)).toEqual(message);
  });

  it('an empty module inside a 0x17 frame is malformed; a non-string module is refused on encode', () => {
    const plain = encodeControlFrame(open);
    // Re-type a version-1 open as 0x17 and append an empty str16: a peer should have sent 0x10.
    const forged = new Uint8Array(plain.length + 2);
    forged.set(plain);
    forged[5] = OPEN_WITH_MODULE_TYPE;
    new DataView(forged.buffer).setUint32(1, plain.length - 5 + 2, true);
    expect(() => decodeControlFrame(forged)).toThrow(MalformedFrameError);
    expect(() => encodeControlFrame({ ...open, adapterModule: 42 as unknown as string })).toThrow(
      InvalidArgumentError,
    );
  });
});
