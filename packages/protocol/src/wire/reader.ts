import { MalformedFrameError, OverLimitError, TruncatedFrameError } from '../errors.js';
import { readU16, readU32, readU53 } from './bytes.js';
import { readUtf8 } from './utf8.js';

/**
 * A bounds-checked cursor over one frame body. Every length is checked against both its limit and the bytes that
 * are really there before anything is read, so a claimed length never causes work or allocation.
 */
export class Reader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    public what: string,
  ) {
    this.pos = start;
  }

  need(n: number, field: string): void {
    if (this.pos + n > this.end) {
      throw new TruncatedFrameError(`${this.what} (${field})`, n, this.end - this.pos);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf[this.pos++]!;
  }

  bool(field: string): boolean {
    const v = this.u8(field);
    if (v > 1) throw new MalformedFrameError(`${this.what}: ${field} must be 0 or 1, got ${v}`);
    return v === 1;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = readU16(this.buf, this.pos);
    this.pos += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = readU32(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  u53(field: string): number {
    this.need(8, field);
    const v = readU53(this.buf, this.pos);
    if (v < 0) throw new MalformedFrameError(`${this.what}: ${field} exceeds 2^53-1`);
    this.pos += 8;
    return v;
  }

  str16(max: number, field: string, limitName = 'maxStringBytes'): string {
    const len = this.u16(field);
    if (len > max) throw new OverLimitError(limitName, len, max);
    this.need(len, field);
    const s = readUtf8(this.buf, this.pos, this.pos + len, `${this.what} ${field}`);
    this.pos += len;
    return s;
  }

  /** A zero-copy view of a u32-length-prefixed byte field. */
  bytes32(max: number, limitName: string, field: string): Uint8Array {
    const len = this.u32(field);
    if (len > max) throw new OverLimitError(limitName, len, max);
    this.need(len, field);
    const view = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return view;
  }

  /** Fields are not optional and not extensible in place: a frame must end exactly where its last field does. */
  finish(): void {
    if (this.pos !== this.end) {
      throw new MalformedFrameError(`${this.what}: ${this.end - this.pos} trailing bytes`);
    }
  }
}
