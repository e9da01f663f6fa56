import { describe, expect, it } from 'vitest';
import {
  assertAcceptedVersion,
  BadVersionError,
  decodeControlBody,
  MalformedFrameError,
  negotiateVersion,
  PROTOCOL_VERSION,
  SUPPORTED_VERSIONS,
  VersionMismatchError,
} from '../src/index.js';

describe('version negotiation', () => {
  it('picks the highest version both sides speak', () => {
    expect(negotiateVersion({ min: 1, max: 5 }, { min: 2, max: 3 })).toBe(3);
    expect(negotiateVersion({ min: 3, max: 4 }, { min: 1, max: 9 })).toBe(4);
    expect(negotiateVersion(SUPPORTED_VERSIONS)).toBe(PROTOCOL_VERSION);
  });

  it('names both ranges when they do not overlap', () => {
    let error: unknown;
    try {
      negotiateVersion({ min: 4, max: 6 }, { min: 1, max: 3 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(VersionMismatchError);
    const mismatch = error as VersionMismatchError;
    expect(mismatch.code).toBe('WSP_PROTO_VERSION_MISMATCH');
    expect(mismatch.name).toBe('VersionMismatchError');
    expect(mismatch.clientRange).toEqual({ min: 4, max: 6 });
    expect(mismatch.daemonRange).toEqual({ min: 1, max: 3 });
    expect(mismatch.message).toContain('4..6');
    expect(mismatch.message).toContain('1..3');
    expect(() => negotiateVersion({ min: 1, max: 1 }, { min: 2, max: 2 })).toThrow(VersionMismatchError);
  });

  it('rejects ranges that are not ranges', () => {
    expect(() => negotiateVersion({ min: 3, max: 2 })).toThrow(BadVersionError);
    expect(() => negotiateVersion({ min: 0, max: 2 })).toThrow(BadVersionError);
  });

  it('the client rejects a pick outside its offer', () => {
    expect(() => assertAcceptedVersion(2, { min: 1, max: 1 })).toThrow(BadVersionError);
    expect(() => assertAcceptedVersion(1, { min: 1, max: 1 })).not.toThrow();
  });

  it('a hello without the WSPX magic is refused as malformed', () => {
    const body = Uint8Array.of(0x01, 0x47, 0x45, 0x54, 0x20, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0);
    expect(() => decodeControlBody(body)).toThrow(MalformedFrameError);
  });
});
