import { BadUtf8Error, BufferTooSmallError, InvalidArgumentError, OverLimitError } from '../errors.js';
import { isU8, isU16, isU32, writeU16, writeU32, writeU53 } from './bytes.js';
import { utf8Length, writeUtf8 } from './utf8.js';

/** A bounds-checked cursor for encoding control messages into a caller's buffer. */
export class Writer {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    offset: number,
  ) {
    if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
      throw new InvalidArgumentError(`offset ${offset} is outside the buffer (length ${buf.length})`);
    }
    this.pos = offset;
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new BufferTooSmallError(this.pos + n, this.buf.length);
    }
  }

  u8(v: number, field: string): void {
    if (!isU8(v)) throw new InvalidArgumentError(`${field} must be an integer in 0..255, got ${v}`);
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  u16(v: number, field: string): void {
    if (!isU16(v)) throw new InvalidArgumentError(`${field} must be an integer in 0..65535, got ${v}`);
    this.ensure(2);
    writeU16(this.buf, this.pos, v);
    this.pos += 2;
  }

  u32(v: number, field: string): void {
    if (!isU32(v)) throw new InvalidArgumentError(`${field} must be an integer in 0..4294967295, got ${v}`);
    this.ensure(4);
    writeU32(this.buf, this.pos, v);
    this.pos += 4;
  }

  u53(v: number, field: string): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new InvalidArgumentError(`${field} must be a non-negative safe integer, got ${v}`);
    }
    this.ensure(8);
    writeU53(this.buf, this.pos, v);
    this.pos += 8;
  }

  /** u16 byte length + UTF-8; returns the byte length so callers can sum it against a group limit. */
  str16(s: string, max: number, field: string, limitName = 'maxStringBytes'): number {
    if (typeof s !== 'string') throw new InvalidArgumentError(`${field} must be a string`);
    const len = utf8Length(s);
    if (len < 0) throw new BadUtf8Error(field);
    if (len > max) throw new OverLimitError(limitName, len, max);
    this.ensure(2 + len);
    writeU16(this.buf, this.pos, len);
    writeUtf8(this.buf, this.pos + 2, s);
    this.pos += 2 + len;
    return len;
  }

  /** u32 byte length + raw bytes. */
  bytes32(b: Uint8Array, max: number, limitName: string, field: string): void {
    if (!(b instanceof Uint8Array)) throw new InvalidArgumentError(`${field} must be a Uint8Array`);
    if (b.length > max) throw new OverLimitError(limitName, b.length, max);
    this.ensure(4 + b.length);
    writeU32(this.buf, this.pos, b.length);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.length;
  }
}
