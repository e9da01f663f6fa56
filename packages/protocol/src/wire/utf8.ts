import { BadUtf8Error } from '../errors.js';

// fatal: bad bytes throw instead of becoming U+FFFD; ignoreBOM: a leading U+FEFF is content, not a marker, so a
// string round-trips exactly.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * UTF-8 length of `s`, or -1 when `s` holds a lone surrogate (which UTF-8 cannot carry: TextEncoder would silently
 * turn it into U+FFFD and the peer would see different text).
 */
export function utf8Length(s: string): number {
  let bytes = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (next < 0xdc00 || next > 0xdfff) return -1;
      bytes += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else bytes += 3;
  }
  return bytes;
}

/** Writes the UTF-8 of `s` (whose length the caller has measured) at `offset`. */
export function writeUtf8(target: Uint8Array, offset: number, s: string): number {
  // ASCII fast path: control strings are almost always ASCII and short.
  const n = s.length;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    target[offset + i] = c;
  }
  if (i === n) return n;
  return i + encoder.encodeInto(s.slice(i), target.subarray(offset + i)).written;
}

/** Decodes UTF-8, throwing `BadUtf8Error` naming `field` on invalid bytes. */
export function readUtf8(bytes: Uint8Array, start: number, end: number, field: string): string {
  if (end - start <= 32) {
    // Short ASCII strings (codes, levels, adapter names) without crossing into TextDecoder.
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch {
    throw new BadUtf8Error(field);
  }
}

/**
 * Decodes a text payload (e.g. a data record with `binary === false`) to a string. Payloads are handed out as bytes
 * so routing never pays for text decoding; call this only where a string is needed.
 */
export function decodeText(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new BadUtf8Error('text payload');
  }
}
