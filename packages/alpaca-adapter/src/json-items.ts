// Splits a JSON Alpaca frame (`[{...},{...}]`) into its items by scanning bytes, reading only `T`, `S` and
// `symbols` at the top level of each item. Items are never parsed or re-serialised, so what a client receives is
// byte for byte what Alpaca sent. The scanner respects strings, escapes and nesting; anything else is a
// MalformedFrameError with the offset where it stopped.

import { MalformedFrameError } from './errors.js';
import { type FrameItems, internAscii, ONE_BYTE_STRINGS } from './frame-items.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const LETTER_T = 0x54;
const LETTER_S = 0x53;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && isSpace(b[i]!)) i++;
  return i;
}

/** Index just past the closing quote of the string whose opening quote is at `i`. */
function skipString(b: Buffer, i: number): number {
  const n = b.length;
  i++;
  while (i < n) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    i += c === BACKSLASH ? 2 : 1;
  }
  throw new MalformedFrameError('unterminated string', i);
}

/** Index just past the JSON value starting at `i` (object, array, string or primitive). */
function skipValue(b: Buffer, i: number): number {
  const n = b.length;
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0;
    while (i < n) {
      const d = b[i]!;
      if (d === QUOTE) {
        i = skipString(b, i);
        continue;
      }
      if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
      else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    throw new MalformedFrameError('unterminated object or array', i);
  }
  // number, true, false, null: runs to the next delimiter
  const from = i;
  while (i < n) {
    const d = b[i]!;
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isSpace(d)) break;
    i++;
  }
  if (i === from) throw new MalformedFrameError('expected a value', i);
  return i;
}

/** Decodes the string whose opening quote is at `i` and which ends before `end` (exclusive of its closing quote). */
function readString(b: Buffer, i: number, end: number): string {
  const from = i + 1;
  const to = end - 1;
  if (to - from === 1 && b[from]! < 0x80) return ONE_BYTE_STRINGS[b[from]!]!;
  for (let k = from; k < to; k++) {
    if (b[k] === BACKSLASH) return JSON.parse(b.toString('utf8', i, end)) as string;
  }
  return b.toString('utf8', from, to);
}

/** Byte classes for the fast skip: 0 ordinary, 1 quote, 2 opener, 3 closer. */
const CLASS = new Uint8Array(256);
CLASS[QUOTE] = 1;
CLASS[OPEN_BRACE] = 2;
CLASS[OPEN_BRACKET] = 2;
CLASS[CLOSE_BRACE] = 3;
CLASS[CLOSE_BRACKET] = 3;

/**
 * From inside an object (depth 1) to just past its closing brace, respecting strings and nesting. This is the
 * hottest loop of routing, hence the lookup tables (one branch per ordinary byte).
 */
function skipToObjectEnd(b: Buffer, i: number): number {
  const n = b.length;
  let depth = 1;
  while (i < n) {
    const kind = CLASS[b[i]!]!;
    i++;
    if (kind === 0) continue;
    if (kind === 1) {
      for (;;) {
        if (i >= n) throw new MalformedFrameError('unterminated string', i);
        const c = b[i++]!;
        if (c === QUOTE) break;
        if (c === BACKSLASH) i++; // skip the escaped byte
      }
    } else if (kind === 2) {
      depth++;
    } else if (--depth === 0) {
      return i;
    }
  }
  throw new MalformedFrameError('unterminated object', i);
}

/** Symbols repeat endlessly: the same string for the same bytes (see internAscii), escapes decoded properly. */
function readSymbol(b: Buffer, i: number, end: number): string {
  return internAscii(b, i + 1, end - 1) ?? readString(b, i, end);
}

function isKey(b: Buffer, i: number, end: number, key: string): boolean {
  if (end - i !== key.length + 2) return false;
  for (let k = 0; k < key.length; k++) if (b[i + 1 + k] !== key.charCodeAt(k)) return false;
  return true;
}

function readStringArray(b: Buffer, i: number, end: number): string[] {
  // `symbols` arrays are short and rare (news only): JSON.parse of just this slice is the simplest correct answer.
  const value: unknown = JSON.parse(b.toString('utf8', i, end));
  if (!Array.isArray(value)) return [];
  return value.filter((s): s is string => typeof s === 'string');
}

/** Scans one top-level object at `i`; records its span and routing fields; returns the index past it. */
function scanItem(b: Buffer, i: number, out: FrameItems): number {
  const start = i;
  if (b[i] !== OPEN_BRACE) {
    // Not an object: keep it as an item with no type so the router can count it as unroutable.
    const end = skipValue(b, i);
    out.push(start, end, '', '', undefined);
    return end;
  }
  let type = '';
  let symbol = '';
  let symbols: string[] | undefined;
  i = skipSpace(b, i + 1);
  if (b[i] === CLOSE_BRACE) {
    out.push(start, i + 1, '', '', undefined);
    return i + 1;
  }
  for (;;) {
    if (b[i] !== QUOTE) throw new MalformedFrameError('expected a key', i);
    const keyStart = i;
    const keyEnd = skipString(b, i);
    i = skipSpace(b, keyEnd);
    if (b[i] !== COLON) throw new MalformedFrameError("expected ':'", i);
    i = skipSpace(b, i + 1);
    const valueStart = i;
    i = skipValue(b, i);
    const keyLen = keyEnd - keyStart;
    if (keyLen === 3) {
      const k = b[keyStart + 1];
      if ((k === LETTER_T || k === LETTER_S) && b[valueStart] === QUOTE) {
        if (k === LETTER_T) type = readString(b, valueStart, i);
        else symbol = readSymbol(b, valueStart, i);
        // Alpaca puts T and S first. Once both are known (and it is not news, which routes by `symbols`), the
        // rest of the item only needs its end found: skip it in one pass instead of key by key.
        if (type !== '' && symbol !== '' && type !== 'n') {
          const end = skipToObjectEnd(b, i);
          out.push(start, end, type, symbol, undefined);
          return end;
        }
      }
    } else if (keyLen === 9 && b[valueStart] === OPEN_BRACKET && isKey(b, keyStart, keyEnd, 'symbols')) {
      symbols = readStringArray(b, valueStart, i);
    }
    i = skipSpace(b, i);
    const c = b[i];
    if (c === COMMA) {
      i = skipSpace(b, i + 1);
      continue;
    }
    if (c === CLOSE_BRACE) {
      out.push(start, i + 1, type, symbol, symbols);
      return i + 1;
    }
    throw new MalformedFrameError("expected ',' or '}'", i);
  }
}

/**
 * Splits a JSON frame into items. A frame that is a single object (the account stream, or a sloppy sender) is
 * treated as an array of one. Throws MalformedFrameError on anything that is not well-formed.
 */
export function scanJsonItems(b: Buffer, out: FrameItems): void {
  out.reset();
  let i = skipSpace(b, 0);
  if (b[i] === OPEN_BRACE) {
    i = scanItem(b, i, out);
  } else if (b[i] === OPEN_BRACKET) {
    i = skipSpace(b, i + 1);
    if (b[i] === CLOSE_BRACKET) {
      i++;
    } else {
      for (;;) {
        i = scanItem(b, i, out);
        i = skipSpace(b, i);
        const c = b[i];
        if (c === COMMA) {
          i = skipSpace(b, i + 1);
          continue;
        }
        if (c === CLOSE_BRACKET) {
          i++;
          break;
        }
        throw new MalformedFrameError("expected ',' or ']'", i);
      }
    }
  } else {
    throw new MalformedFrameError('expected a JSON array', i);
  }
  if (skipSpace(b, i) !== b.length) throw new MalformedFrameError('trailing bytes after the array', i);
}
