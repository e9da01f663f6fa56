// The control stream over a real Unix socket, as the daemon and the client use it: frames and doorbells written
// whole, read in whatever chunks the kernel delivers.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ControlMessage,
  ControlStreamDecoder,
  DOORBELL_BYTE,
  encodeControlFrame,
  MalformedFrameError,
  TruncatedFrameError,
  UnknownTypeError,
} from '../src/index.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function socketPair(): Promise<{ daemonSide: net.Socket; clientSide: net.Socket }> {
  const dir = mkdtempSync(join(tmpdir(), 'wsp-proto-'));
  const path = join(dir, 'control.sock');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    cleanups.push(() => server.close());
    server.on('error', reject);
    server.listen(path, () => {
      const clientSide = net.connect(path);
      cleanups.push(() => clientSide.destroy());
      server.once('connection', (daemonSide) => {
        cleanups.push(() => daemonSide.destroy());
        resolve({ daemonSide, clientSide });
      });
    });
  });
}

describe('ControlStreamDecoder over a Unix socket', () => {
  it('delivers every frame and doorbell in order, whole', async () => {
    const { daemonSide, clientSide } = await socketPair();
    const sent: (ControlMessage | 'bell')[] = [];
    for (let i = 1; i <= 2000; i++) {
      const message: ControlMessage =
        i % 3 === 0
          ? { type: 'event', event: { kind: 'gap', connectionId: i, lostMessages: i, lostBytes: i * 100 } }
          : {
              type: 'subscribed',
              requestId: i,
              alreadySubscribed: i % 2 === 0,
              reply: new Uint8Array(i % 700).fill(i & 0xff),
            };
      daemonSide.write(encodeControlFrame(message));
      sent.push(message);
      if (i % 7 === 0) {
        daemonSide.write(Uint8Array.of(DOORBELL_BYTE));
        sent.push('bell');
      }
    }
    daemonSide.end();

    const received: (ControlMessage | 'bell')[] = [];
    const decoder = new ControlStreamDecoder({
      onMessage: (m) => received.push(m),
      onDoorbell: () => received.push('bell'),
    });
    await new Promise<void>((resolve, reject) => {
      clientSide.on('data', (chunk) => decoder.push(chunk));
      clientSide.on('end', () => {
        decoder.end();
        resolve();
      });
      clientSide.on('error', reject);
    });
    expect(received.length).toBe(sent.length);
    expect(received.map((m) => (m === 'bell' ? m : JSON.stringify({ ...m, reply: undefined })))).toEqual(
      sent.map((m) => (m === 'bell' ? m : JSON.stringify({ ...m, reply: undefined }))),
    );
    for (let i = 0; i < sent.length; i++) {
      const s = sent[i]!;
      const r = received[i]!;
      if (s !== 'bell' && s.type === 'subscribed' && r !== 'bell' && r.type === 'subscribed') {
        expect(Buffer.from(r.reply).equals(Buffer.from(s.reply))).toBe(true);
      }
    }
  });

  it('reports a peer that closes mid-frame as TruncatedFrameError', async () => {
    const { daemonSide, clientSide } = await socketPair();
    const frame = encodeControlFrame({ type: 'error', requestId: 9, code: 'WSP_ERR_INTERNAL', message: 'x' });
    daemonSide.end(frame.subarray(0, frame.length - 2));
    const decoder = new ControlStreamDecoder({ onMessage: () => {} });
    const error = await new Promise<unknown>((resolve) => {
      clientSide.on('data', (chunk) => decoder.push(chunk));
      clientSide.on('end', () => {
        try {
          decoder.end();
          resolve(null);
        } catch (err) {
          resolve(err);
        }
      });
    });
    expect(error).toBeInstanceOf(TruncatedFrameError);
  });
});

describe('ControlStreamDecoder framing', () => {
  it('decodes several frames and doorbells from one chunk, and a frame split at every byte', () => {
    const a = encodeControlFrame({ type: 'ok', requestId: 1 });
    const b = encodeControlFrame({ type: 'opened', requestId: 2, connectionId: 3, isNew: false });
    const stream = Buffer.concat([Buffer.of(7, 7), a, Buffer.of(7), b]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const got: string[] = [];
      const decoder = new ControlStreamDecoder({
        onMessage: (m) => got.push(m.type),
        onDoorbell: () => got.push('bell'),
      });
      decoder.push(stream.subarray(0, cut));
      decoder.push(stream.subarray(cut));
      decoder.end();
      expect(got).toEqual(['bell', 'bell', 'ok', 'bell', 'opened']);
    }
  });

  it('stays failed after a protocol error, and keeps what it delivered before it', () => {
    const got: string[] = [];
    const decoder = new ControlStreamDecoder({ onMessage: (m) => got.push(m.type) });
    const good = encodeControlFrame({ type: 'ok', requestId: 1 });
    expect(() => decoder.push(Buffer.concat([good, Buffer.of(0x42)]))).toThrow(MalformedFrameError);
    expect(got).toEqual(['ok']);
    expect(decoder.failure?.code).toBe('WSP_PROTO_MALFORMED');
    expect(() => decoder.push(good)).toThrow(MalformedFrameError);
    expect(got).toEqual(['ok']);
  });

  it('an unknown message type fails with UnknownTypeError', () => {
    const decoder = new ControlStreamDecoder({ onMessage: () => {} });
    expect(() => decoder.push(Uint8Array.of(0x57, 1, 0, 0, 0, 0x7e))).toThrow(UnknownTypeError);
  });

  it('an empty frame body is malformed', () => {
    const decoder = new ControlStreamDecoder({ onMessage: () => {} });
    expect(() => decoder.push(Uint8Array.of(0x57, 0, 0, 0, 0))).toThrow(MalformedFrameError);
  });
});
