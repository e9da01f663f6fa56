import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertAcceptedVersion,
  BadVersionError,
  ControlStreamDecoder,
  type DaemonMessage,
  decodeControlBody,
  encodeControlFrame,
  MalformedFrameError,
  negotiateVersion,
  PROTOCOL_VERSION,
  ProtocolError,
  SUPPORTED_VERSIONS,
  VersionMismatchError,
  type VersionRange,
  versionMismatchFromRefusal,
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

describe('handshake over a Unix socket', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    while (cleanups.length) cleanups.pop()!();
  });

  /** A daemon that speaks `daemonRange`: answers hello with welcome or refused, as the README shows. */
  async function daemon(daemonRange: VersionRange): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'wsp-proto-'));
    const path = join(dir, 'd.sock');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const server = net.createServer((socket) => {
      cleanups.push(() => socket.destroy());
      const decoder = new ControlStreamDecoder({
        onMessage(message) {
          if (message.type !== 'hello') return;
          try {
            const version = negotiateVersion(
              { min: message.minVersion, max: message.maxVersion },
              daemonRange,
            );
            socket.write(
              encodeControlFrame({
                type: 'welcome',
                version,
                clientId: 1,
                daemonPid: process.pid,
                daemonVersion: '0.0.0-test',
                ringName: '/wsproxy-test',
                readerSlot: 0,
              }),
            );
          } catch (err) {
            if (!(err instanceof ProtocolError)) throw err;
            socket.end(
              encodeControlFrame({
                type: 'refused',
                code: err.code,
                message: err.message,
                minVersion: daemonRange.min,
                maxVersion: daemonRange.max,
              }),
            );
          }
        },
      });
      socket.on('data', (chunk) => decoder.push(chunk));
    });
    cleanups.push(() => server.close());
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return path;
  }

  function hello(path: string, offered: VersionRange): Promise<DaemonMessage> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(path);
      cleanups.push(() => socket.destroy());
      const decoder = new ControlStreamDecoder({
        onMessage: (m) => resolve(m as DaemonMessage),
        onDoorbell: () => {},
      });
      socket.on('data', (chunk) => decoder.push(chunk));
      socket.on('error', reject);
      socket.write(
        encodeControlFrame({
          type: 'hello',
          minVersion: offered.min,
          maxVersion: offered.max,
          clientPid: process.pid,
          clientName: 'test',
        }),
      );
    });
  }

  it('agrees on the highest common version', async () => {
    const path = await daemon({ min: 1, max: 3 });
    const answer = await hello(path, { min: 2, max: 5 });
    expect(answer).toMatchObject({ type: 'welcome', version: 3, readerSlot: 0, ringName: '/wsproxy-test' });
    if (answer.type === 'welcome')
      expect(() => assertAcceptedVersion(answer.version, { min: 2, max: 5 })).not.toThrow();
  });

  it('a refusal names both ranges on the client side', async () => {
    const path = await daemon({ min: 1, max: 1 });
    const offered = { min: 2, max: 3 };
    const answer = await hello(path, offered);
    expect(answer.type).toBe('refused');
    if (answer.type !== 'refused') return;
    expect(answer.code).toBe('WSP_PROTO_VERSION_MISMATCH');
    const error = versionMismatchFromRefusal(answer, offered);
    expect(error).toBeInstanceOf(VersionMismatchError);
    expect(error?.clientRange).toEqual(offered);
    expect(error?.daemonRange).toEqual({ min: 1, max: 1 });
    expect(versionMismatchFromRefusal({ ...answer, code: 'WSP_ERR_TOO_MANY_CLIENTS' }, offered)).toBeNull();
  });
});
