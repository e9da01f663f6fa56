// The result of splitting one Alpaca frame (a top-level array) into its items without decoding them: each item's
// byte range plus the three fields routing needs (`T`, `S`, `symbols`). The arrays are reused from frame to frame
// so the hot path allocates nothing but the symbol strings.

export class FrameItems {
  /** Number of items in the last scanned frame. Entries past `count` are stale. */
  count = 0;
  /** Byte offset where item k starts (inclusive) in the frame. */
  readonly start: number[] = [];
  /** Byte offset where item k ends (exclusive). */
  readonly end: number[] = [];
  /** The item's `T` (message type), or '' when absent. */
  readonly type: string[] = [];
  /** The item's `S` (symbol), or '' when absent. */
  readonly symbol: string[] = [];
  /** News: the item's `symbols` array; undefined for everything else. */
  readonly symbols: (string[] | undefined)[] = [];

  reset(): void {
    this.count = 0;
  }

  push(start: number, end: number, type: string, symbol: string, symbols: string[] | undefined): void {
    const k = this.count++;
    this.start[k] = start;
    this.end[k] = end;
    this.type[k] = type;
    this.symbol[k] = symbol;
    this.symbols[k] = symbols;
  }
}

/** Alpaca's control messages: handled by the session, never routed as data. */
export function isControlType(type: string): boolean {
  return type === 'success' || type === 'error' || type === 'subscription';
}

/** Strings of one byte, prebuilt: `T` is almost always a single ASCII letter. */
export const ONE_BYTE_STRINGS: readonly string[] = Array.from({ length: 128 }, (_, c) =>
  String.fromCharCode(c),
);

/** A Buffer view over any Uint8Array, without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const SYMBOL_TABLE_SIZE = 4096; // 2^12: the slot is the top 12 bits of the mixed hash
const symbolTable: (string | undefined)[] = new Array(SYMBOL_TABLE_SIZE);

/**
 * Symbols repeat endlessly: return the same string for the same bytes instead of decoding a new one per item. A
 * small direct-mapped table keyed by FNV-1a of the bytes; a collision just decodes and replaces. Undefined when the
 * bytes are not plain printable ASCII (escapes, UTF-8): the caller decodes those itself.
 */
export function internAscii(b: Uint8Array, from: number, to: number): string | undefined {
  let hash = 0x811c9dc5;
  for (let k = from; k < to; k++) {
    const c = b[k]!;
    if (c === 0x5c || c >= 0x80) return undefined;
    hash = Math.imul(hash ^ c, 0x01000193);
  }
  // FNV-1a mixes its low bits poorly for short, similar symbols: fold and take the top 12 bits instead.
  const slot = Math.imul(hash ^ (hash >>> 16), 0x45d9f3b) >>> 20;
  const cached = symbolTable[slot];
  if (cached !== undefined && cached.length === to - from) {
    let same = true;
    for (let k = 0; k < cached.length; k++) {
      if (cached.charCodeAt(k) !== b[from + k]) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  const s = String.fromCharCode.apply(null, Array.from(b.subarray(from, to)));
  symbolTable[slot] = s;
  return s;
}
