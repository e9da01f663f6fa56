// Writes data items in msgpack the way Alpaca's server does, so a transcoded frame is what Alpaca would have sent in
// msgpack: `T` first in every item map (the Go SDK rejects anything else), each known numeric field in the fixed
// width of its Go type (int64 0xd3, uint32 0xce, uint64 0xcf, float64 0xcb — even a whole price is a float64, and
// the Go SDK's typed decoders refuse a float where they expect an integer), and every timestamp field as the
// timestamp extension -1.

import { ExtData } from '@msgpack/msgpack';
import type { FeedKind } from './feeds.js';
import { isLevelArray, type NumberWidth, TIMESTAMP_FIELDS, widthOf } from './item-schema.js';
import { isoToTimestampExt } from './wire.js';

class Writer {
  private buf = Buffer.allocUnsafe(1024);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.at);
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  header(n: number, fix: number, b16: number, b32: number, fixMax = 15): void {
    if (n <= fixMax) this.byte(fix | n);
    else if (n < 0x10000) {
      this.byte(b16);
      this.room(2);
      this.buf.writeUInt16BE(n, this.at);
      this.at += 2;
    } else {
      this.byte(b32);
      this.room(4);
      this.buf.writeUInt32BE(n, this.at);
      this.at += 4;
    }
  }

  string(s: string): void {
    const n = Buffer.byteLength(s);
    if (n < 32) this.byte(0xa0 | n);
    else if (n < 0x100) {
      this.byte(0xd9);
      this.byte(n);
    } else this.header(n, 0, 0xda, 0xdb, -1);
    this.room(n);
    this.at += this.buf.write(s, this.at);
  }

  float64(x: number): void {
    this.byte(0xcb);
    this.room(8);
    this.buf.writeDoubleBE(x, this.at);
    this.at += 8;
  }

  int(value: bigint, width: 'int64' | 'uint32' | 'uint64'): void {
    // A value that does not fit its field's type is written in the next wider one rather than wrapped.
    if (width === 'uint32' && value >= 0n && value <= 0xffffffffn) {
      this.byte(0xce);
      this.room(4);
      this.buf.writeUInt32BE(Number(value), this.at);
      this.at += 4;
    } else if (value < 0n || (width === 'int64' && value <= 0x7fffffffffffffffn)) {
      this.byte(0xd3);
      this.room(8);
      this.buf.writeBigInt64BE(BigInt.asIntN(64, value), this.at);
      this.at += 8;
    } else {
      this.byte(0xcf);
      this.room(8);
      this.buf.writeBigUInt64BE(BigInt.asUintN(64, value), this.at);
      this.at += 8;
    }
  }

  ext(e: ExtData): void {
    const data = e.data as Uint8Array;
    const n = data.length;
    const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
    if (fixed[n] !== undefined) this.byte(fixed[n]);
    else if (n < 0x100) {
      this.byte(0xc7);
      this.byte(n);
    } else this.header(n, 0, 0xc8, 0xc9, -1);
    this.byte(e.type & 0xff);
    this.room(n);
    this.buf.set(data, this.at);
    this.at += n;
  }

  /** Any value; `width` is its field's Go type when known. */
  value(v: unknown, width?: NumberWidth): void {
    if (v === null || v === undefined) this.byte(0xc0);
    else if (v === true) this.byte(0xc3);
    else if (v === false) this.byte(0xc2);
    else if (typeof v === 'string') this.string(v);
    else if (typeof v === 'bigint') {
      if (width === 'float64') this.float64(Number(v));
      else this.int(v, width ?? 'int64');
    } else if (typeof v === 'number') this.number(v, width);
    else if (v instanceof ExtData) this.ext(v);
    else if (Array.isArray(v)) {
      this.header(v.length, 0x90, 0xdc, 0xdd);
      for (const x of v) this.value(x, width);
    } else if (typeof v === 'object') {
      const entries = Object.entries(v).filter(([, x]) => x !== undefined);
      this.header(entries.length, 0x80, 0xde, 0xdf);
      for (const [key, x] of entries) {
        this.string(key);
        this.value(x, width);
      }
    } else this.byte(0xc0);
  }

  private number(x: number, width: NumberWidth | undefined): void {
    if (width === 'float64' || !Number.isInteger(x)) this.float64(x);
    // An integer field (or a field this table does not know yet): the fixed 64-bit width Alpaca's Go types use.
    else this.int(BigInt(x), width ?? 'int64');
  }
}

/** One item map: `T` first, typed fields in their Go width, timestamp fields as extension -1. */
function writeItem(w: Writer, item: Record<string, unknown>, kind: FeedKind): void {
  const type = typeof item.T === 'string' ? item.T : '';
  const keys = Object.keys(item).filter((k) => item[k] !== undefined);
  // The Go SDK's decoder rejects a map whose first key is not "T".
  if ('T' in item) keys.sort((a, b) => (a === 'T' ? -1 : b === 'T' ? 1 : 0));
  w.header(keys.length, 0x80, 0xde, 0xdf);
  for (const key of keys) {
    const value = item[key];
    w.string(key);
    if (TIMESTAMP_FIELDS.has(key) && typeof value === 'string') {
      const ext = isoToTimestampExt(value);
      if (ext) {
        w.ext(ext);
        continue;
      }
    }
    w.value(value, isLevelArray(type, key) ? 'float64' : widthOf(kind, type, key));
  }
}

/** A frame (array of items) in Alpaca's msgpack, for a `kind` feed. */
export function encodeAlpacaMsgpack(items: readonly unknown[], kind: FeedKind): Uint8Array {
  const w = new Writer();
  w.header(items.length, 0x90, 0xdc, 0xdd);
  for (const item of items) {
    if (typeof item === 'object' && item !== null && !Array.isArray(item))
      writeItem(w, item as Record<string, unknown>, kind);
    else w.value(item);
  }
  return w.bytes();
}
