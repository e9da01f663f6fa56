// A million random and mutated inputs through every decoder: the only thing allowed out is a ProtocolError (or a
// successful decode). No TypeError, no RangeError, no hang. A seeded generator keeps failures reproducible.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ControlStreamDecoder,
  decodeControlBody,
  decodeControlFrame,
  decodeRecordEvent,
  decodeRingRecordInto,
  encodeControlFrame,
  ProtocolError,
  RingRecord,
  ringRecordIsFor,
} from '../src/index.js';
import { parseHex, vectors } from './vectors.js';

const TOTAL = 1_000_000;

/** xorshift32: fast, seeded, good enough to scatter bytes. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const seeds = vectors.map((v) =>
  parseHex(readFileSync(join(import.meta.dirname, 'vectors', `${v.name}.hex`), 'utf8')),
);

/** A valid vector with 1-4 bytes flipped, lengths nudged, or cut/extended: inputs close to valid hit deep paths. */
function mutate(next: () => number, out: Uint8Array): number {
  const seed = seeds[next() % seeds.length]!;
  let n = seed.length;
  out.set(seed);
  const edits = 1 + (next() & 3);
  for (let e = 0; e < edits; e++) {
    const op = next() & 7;
    const at = next() % Math.max(1, n);
    if (op < 4)
      out[at] = next() & 0xff; // random byte
    else if (op === 4)
      out[at] = out[at]! ^ (1 << (next() & 7)); // bit flip
    else if (op === 5)
      out[at] = [0x00, 0xff, 0x7f, 0x80][next() & 3]!; // boundary values
    else if (op === 6)
      n = next() % (n + 1); // truncate
    else n = Math.min(out.length, n + (next() & 15)); // extend with stale bytes
  }
  return n;
}

function classify(fn: () => unknown, counts: { ok: number; errors: Map<string, number> }): void {
  try {
    fn();
    counts.ok++;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    counts.errors.set(err.code, (counts.errors.get(err.code) ?? 0) + 1);
  }
}

describe('fuzz', () => {
  it(`${TOTAL} random and mutated inputs yield only typed errors`, () => {
    const next = rng(0x5eed);
    const buf = new Uint8Array(4096);
    const record = new RingRecord();
    const counts = { ok: 0, errors: new Map<string, number>() };
    // Most of a million inputs throw; capturing a stack trace for each would be nearly all the run time, and the
    // stack is not what is under test (the class and code are).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      fuzzLoop();
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    function fuzzLoop(): void {
      for (let i = 0; i < TOTAL; i++) {
        let n: number;
        if (i & 1) {
          n = mutate(next, buf);
        } else {
          n = next() % 64;
          for (let j = 0; j < n; j++) buf[j] = next() & 0xff;
          // Half the random inputs get a plausible lead or kind byte so they get past the first check.
          if (n > 0 && i & 2) buf[0] = [0x57, 0x01, 0x02][next() % 3]!;
        }
        const input = buf.subarray(0, n);
        switch (i % 4) {
          case 0:
            classify(() => decodeControlFrame(input), counts);
            break;
          case 1:
            classify(() => decodeControlBody(input.subarray(Math.min(5, n))), counts);
            break;
          case 2:
            classify(() => {
              decodeRingRecordInto(record, input);
              if (record.kind === 'event') decodeRecordEvent(record);
              record.isFor(next() & 0xfff);
            }, counts);
            break;
          default:
            classify(() => ringRecordIsFor(input, next() & 0xfff), counts);
        }
      }
    }
    const errors = [...counts.errors.values()].reduce((a, b) => a + b, 0);
    expect(counts.ok + errors).toBe(TOTAL);
    // Both outcomes must really occur, or the fuzzer is not reaching the decoders.
    expect(counts.ok).toBeGreaterThan(1000);
    expect(counts.errors.get('WSP_PROTO_TRUNCATED')).toBeGreaterThan(1000);
    expect(counts.errors.get('WSP_PROTO_UNKNOWN_TYPE')).toBeGreaterThan(100);
    expect(counts.errors.get('WSP_PROTO_MALFORMED')).toBeGreaterThan(100);
    expect(counts.errors.get('WSP_PROTO_OVER_LIMIT')).toBeGreaterThan(100);
    expect(counts.errors.get('WSP_PROTO_BAD_UTF8')).toBeGreaterThan(10);
  });

  it('a stream decoder fed mutated streams in random chunks fails only with typed errors', () => {
    const next = rng(0xc0ffee);
    const valid = Buffer.concat(
      vectors.flatMap((v) =>
        v.kind === 'control' ? [Buffer.from(encodeControlFrame(v.message)), Buffer.of(7)] : [],
      ),
    );
    let typed = 0;
    let clean = 0;
    for (let round = 0; round < 3000; round++) {
      const stream = Uint8Array.from(valid);
      for (let e = 0; e < (next() & 3); e++) stream[next() % stream.length] = next() & 0xff;
      const decoder = new ControlStreamDecoder({ onMessage: () => {}, onDoorbell: () => {} });
      try {
        let pos = 0;
        while (pos < stream.length) {
          const size = 1 + (next() % 200);
          decoder.push(stream.subarray(pos, pos + size));
          pos += size;
        }
        decoder.end();
        clean++;
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        expect(decoder.failure).toBe(err);
        typed++;
      }
    }
    expect(typed).toBeGreaterThan(100);
    expect(clean).toBeGreaterThan(100);
  });
});
