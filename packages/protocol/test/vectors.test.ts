// Golden vectors, checked both ways: our encoder must produce exactly the checked-in bytes, and our decoder must
// read them back to the same message. Also: every strict prefix of every vector is a typed truncation error.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ControlStreamDecoder,
  DOORBELL_BYTE,
  decodeControlFrame,
  decodeRecordEvent,
  decodeRingRecord,
  encodeControlFrame,
  encodeDataRecord,
  encodeEventRecord,
  TruncatedFrameError,
} from '../src/index.js';
import { formatHex, parseHex, type Vector, vectors } from './vectors.js';

const dir = join(import.meta.dirname, 'vectors');
const update = process.env.WSP_UPDATE_VECTORS === '1';

function encode(v: Vector): Uint8Array {
  if (v.kind === 'control') return encodeControlFrame(v.message);
  if (v.kind === 'data-record') return encodeDataRecord(v.record);
  return encodeEventRecord(v.event, v.recipients);
}

function describeVector(v: Vector): string {
  if (v.kind === 'control' && v.message.type === 'open' && v.message.adapterModule)
    return 'control frame, type open with adapterModule (0x17, protocol version 2)';
  if (v.kind === 'control' && 'state' in v.message && v.message.type !== 'restore')
    return `control frame, type ${v.message.type} with state (protocol version 3)`;
  if (v.kind === 'control') return `control frame, type ${v.message.type}`;
  if (v.kind === 'data-record') return 'ring data record';
  return `ring event record, kind ${v.event.kind}`;
}

function load(v: Vector): Uint8Array {
  const file = join(dir, `${v.name}.hex`);
  if (update || !existsSync(file)) {
    if (!update)
      throw new Error(`missing vector ${file}; run with WSP_UPDATE_VECTORS=1 after a deliberate change`);
    writeFileSync(file, formatHex(v.name, describeVector(v), encode(v)));
  }
  return parseHex(readFileSync(file, 'utf8'));
}

describe('golden vectors', () => {
  it('covers every control message type', () => {
    const types = new Set(vectors.flatMap((v) => (v.kind === 'control' ? [v.message.type] : [])));
    expect([...types].sort()).toEqual(
      [
        'hello',
        'welcome',
        'refused',
        'open',
        'close',
        'send',
        'subscribe',
        'unsubscribe',
        'restore',
        'setLogLevel',
        'status',
        'ok',
        'error',
        'opened',
        'subscribed',
        'unsubscribed',
        'statusReport',
        'event',
      ].sort(),
    );
  });

  for (const v of vectors) {
    describe(v.name, () => {
      it('encodes to the checked-in bytes', () => {
        expect(Buffer.from(encode(v)).toString('hex')).toBe(Buffer.from(load(v)).toString('hex'));
      });

      it('decodes from the checked-in bytes', () => {
        const bytes = load(v);
        if (v.kind === 'control') {
          expect(decodeControlFrame(bytes)).toEqual(v.message);
        } else if (v.kind === 'data-record') {
          const record = decodeRingRecord(bytes);
          expect(record.kind).toBe('data');
          expect(record.connectionId).toBe(v.record.connectionId);
          expect(record.binary).toBe(v.record.binary);
          expect(record.payload).toEqual(v.record.payload);
          expect(record.recipientSlots()).toEqual(v.record.recipients);
          if (v.record.fragment) {
            expect([record.messageId, record.fragmentOffset, record.remaining]).toEqual([
              v.record.fragment.messageId,
              v.record.fragment.offset,
              v.record.fragment.remaining,
            ]);
          }
        } else {
          const record = decodeRingRecord(bytes);
          expect(decodeRecordEvent(record)).toEqual(v.event);
          expect(record.recipientSlots()).toEqual(v.recipients);
        }
      });

      it('rejects every strict prefix with TruncatedFrameError', () => {
        const bytes = load(v);
        for (let n = 0; n < bytes.length; n++) {
          const prefix = bytes.subarray(0, n);
          const decode =
            v.kind === 'control' ? () => decodeControlFrame(prefix) : () => decodeRingRecord(prefix);
          expect(decode).toThrow(TruncatedFrameError);
        }
      });
    });
  }

  it('the doorbell is the single byte in doorbell.hex', () => {
    const file = join(dir, 'doorbell.hex');
    if (update)
      writeFileSync(
        file,
        formatHex('doorbell', 'wake-up byte on the control stream (ASCII BEL)', Uint8Array.of(DOORBELL_BYTE)),
      );
    const bytes = parseHex(readFileSync(file, 'utf8'));
    expect(bytes).toEqual(Uint8Array.of(0x07));
    let rings = 0;
    const decoder = new ControlStreamDecoder({ onMessage: () => {}, onDoorbell: () => rings++ });
    decoder.push(bytes);
    decoder.end();
    expect(rings).toBe(1);
  });
});
