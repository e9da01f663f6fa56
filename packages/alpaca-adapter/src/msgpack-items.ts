// Splits a msgpack Alpaca frame (an array of maps) into its items' byte ranges with a minimal skipper, reading only
// the `T`, `S` and `symbols` keys of each map. Items are copied through untouched; the router re-wraps them with
// a new array header.

import { MalformedFrameError } from './errors.js';
import { type FrameItems, internAscii, ONE_BYTE_STRINGS } from './frame-items.js';

function need(b: Buffer, end: number, at: number): void {
  if (end > b.length) throw new MalformedFrameError('truncated msgpack value', at);
}

/** Index just past the msgpack value starting at `i`. */
export function skipMsgpack(b: Buffer, i: number): number {
  if (i >= b.length) throw new MalformedFrameError('truncated msgpack value', i);
  const c = b[i]!;
  if (c <= 0x7f || c >= 0xe0) return i + 1; // positive / negative fixint
  if (c <= 0x8f) return skipEntries(b, i + 1, (c & 0x0f) * 2);
  if (c <= 0x9f) return skipEntries(b, i + 1, c & 0x0f);
  if (c <= 0xbf) return bounded(b, i, i + 1 + (c & 0x1f));
  switch (c) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
      return i + 1;
    case 0xc4: // bin8
    case 0xd9: // str8
      need(b, i + 2, i);
      return bounded(b, i, i + 2 + b[i + 1]!);
    case 0xc5:
    case 0xda:
      need(b, i + 3, i);
      return bounded(b, i, i + 3 + b.readUInt16BE(i + 1));
    case 0xc6:
    case 0xdb:
      need(b, i + 5, i);
      return bounded(b, i, i + 5 + b.readUInt32BE(i + 1));
    case 0xc7: // ext8: len, type, data
      need(b, i + 2, i);
      return bounded(b, i, i + 3 + b[i + 1]!);
    case 0xc8:
      need(b, i + 3, i);
      return bounded(b, i, i + 4 + b.readUInt16BE(i + 1));
    case 0xc9:
      need(b, i + 5, i);
      return bounded(b, i, i + 6 + b.readUInt32BE(i + 1));
    case 0xca:
      return bounded(b, i, i + 5);
    case 0xcb:
      return bounded(b, i, i + 9);
    case 0xcc:
    case 0xd0:
      return bounded(b, i, i + 2);
    case 0xcd:
    case 0xd1:
      return bounded(b, i, i + 3);
    case 0xce:
    case 0xd2:
      return bounded(b, i, i + 5);
    case 0xcf:
    case 0xd3:
      return bounded(b, i, i + 9);
    case 0xd4: // fixext 1, 2, 4, 8, 16 (plus the type byte)
      return bounded(b, i, i + 3);
    case 0xd5:
      return bounded(b, i, i + 4);
    case 0xd6:
      return bounded(b, i, i + 6);
    case 0xd7:
      return bounded(b, i, i + 10);
    case 0xd8:
      return bounded(b, i, i + 18);
    case 0xdc:
      need(b, i + 3, i);
      return skipEntries(b, i + 3, b.readUInt16BE(i + 1));
    case 0xdd:
      need(b, i + 5, i);
      return skipEntries(b, i + 5, b.readUInt32BE(i + 1));
    case 0xde:
      need(b, i + 3, i);
      return skipEntries(b, i + 3, b.readUInt16BE(i + 1) * 2);
    case 0xdf:
      need(b, i + 5, i);
      return skipEntries(b, i + 5, b.readUInt32BE(i + 1) * 2);
    default:
      throw new MalformedFrameError(`invalid msgpack byte 0x${c.toString(16)}`, i);
  }
}

function bounded(b: Buffer, at: number, end: number): number {
  need(b, end, at);
  return end;
}

function skipEntries(b: Buffer, i: number, n: number): number {
  for (let k = 0; k < n; k++) i = skipMsgpack(b, i);
  return i;
}

/** Reads a msgpack header for a container: [count, index of the first element], or undefined if not that kind. */
function readHeader(b: Buffer, i: number, kind: 'array' | 'map'): [number, number] | undefined {
  const c = b[i];
  if (c === undefined) return undefined;
  const fix = kind === 'array' ? 0x90 : 0x80;
  if (c >= fix && c <= fix + 0x0f) return [c & 0x0f, i + 1];
  const c16 = kind === 'array' ? 0xdc : 0xde;
  if (c === c16) {
    need(b, i + 3, i);
    return [b.readUInt16BE(i + 1), i + 3];
  }
  if (c === c16 + 1) {
    need(b, i + 5, i);
    return [b.readUInt32BE(i + 1), i + 5];
  }
  return undefined;
}

/** [start of string bytes, end] if the value at `i` is a msgpack string, else undefined. */
function stringSpan(b: Buffer, i: number): [number, number] | undefined {
  const c = b[i]!;
  if (c >= 0xa0 && c <= 0xbf) return [i + 1, i + 1 + (c & 0x1f)];
  if (c === 0xd9) return [i + 2, i + 2 + b[i + 1]!];
  if (c === 0xda) return [i + 3, i + 3 + b.readUInt16BE(i + 1)];
  if (c === 0xdb) return [i + 5, i + 5 + b.readUInt32BE(i + 1)];
  return undefined;
}

function readStr(b: Buffer, i: number): string | undefined {
  const span = stringSpan(b, i);
  if (!span) return undefined;
  const [from, to] = span;
  if (to - from === 1 && b[from]! < 0x80) return ONE_BYTE_STRINGS[b[from]!]!;
  return internAscii(b, from, to) ?? b.toString('utf8', from, to);
}

const KEY_T = 0x54;
const KEY_S = 0x53;
const SYMBOLS = Buffer.from('symbols');

function scanItem(b: Buffer, i: number, out: FrameItems): number {
  const start = i;
  const header = readHeader(b, i, 'map');
  if (!header) {
    const end = skipMsgpack(b, i);
    out.push(start, end, '', '', undefined);
    return end;
  }
  let [n, p] = header;
  let type = '';
  let symbol = '';
  let symbols: string[] | undefined;
  for (; n > 0; n--) {
    const keyAt = p;
    const c = b[keyAt];
    p = skipMsgpack(b, p);
    const valueAt = p;
    p = skipMsgpack(b, p);
    if (c === 0xa1) {
      // fixstr of one byte: `T` or `S`
      const k = b[keyAt + 1];
      if (k === KEY_T) type = readStr(b, valueAt) ?? '';
      else if (k === KEY_S) symbol = readStr(b, valueAt) ?? '';
    } else if (c === 0xa7 && b.compare(SYMBOLS, 0, 7, keyAt + 1, keyAt + 8) === 0) {
      const arr = readHeader(b, valueAt, 'array');
      if (arr) {
        symbols = [];
        let q = arr[1];
        for (let k = 0; k < arr[0]; k++) {
          const s = readStr(b, q);
          if (s !== undefined) symbols.push(s);
          q = skipMsgpack(b, q);
        }
      }
    }
  }
  out.push(start, p, type, symbol, symbols);
  return p;
}

/** Splits a msgpack frame into items. A lone map is treated as an array of one. */
export function scanMsgpackItems(b: Buffer, out: FrameItems): void {
  out.reset();
  let i = 0;
  const header = readHeader(b, 0, 'array');
  if (header) {
    const [n, first] = header;
    i = first;
    for (let k = 0; k < n; k++) i = scanItem(b, i, out);
  } else if (readHeader(b, 0, 'map')) {
    i = scanItem(b, 0, out);
  } else {
    throw new MalformedFrameError('expected a msgpack array', 0);
  }
  if (i !== b.length) throw new MalformedFrameError('trailing bytes after the array', i);
}

/** Writes a msgpack array header for `n` elements at `at`; returns the header length. */
export function writeMsgpackArrayHeader(out: Buffer, at: number, n: number): number {
  if (n < 16) {
    out[at] = 0x90 | n;
    return 1;
  }
  if (n < 0x10000) {
    out[at] = 0xdc;
    out.writeUInt16BE(n, at + 1);
    return 3;
  }
  out[at] = 0xdd;
  out.writeUInt32BE(n, at + 1);
  return 5;
}

export function msgpackArrayHeaderLength(n: number): number {
  return n < 16 ? 1 : n < 0x10000 ? 3 : 5;
}
