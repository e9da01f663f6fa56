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
