// Text a peer gave us (a URL, an adapter name, a module path) that we echo back in an error message. The wire
// codec refuses strings over `maxStringBytes` (4096), so an error quoting a 5,000-character URL could not be sent at
// all: every quoted value is shortened here, and every outgoing message is cut to what the wire accepts.

import { MAX_STRING_BYTES } from '@wsproxy/protocol';

/** How much of a peer's value an error message quotes: enough to recognise it, never enough to overflow the frame. */
export const QUOTED_VALUE_CHARS = 200;

/**
 * `text` as quoted in an error message: unchanged when short, else its head, an ellipsis and its real length, so
 * the reader knows it was cut and by how much (`ws://host/aaaa… (5016 chars)`).
 */
export function quoteForMessage(text: string, maxChars = QUOTED_VALUE_CHARS): string {
  if (text.length <= maxChars) return text;
  // Never split a surrogate pair: a lone half would be replaced on encode and look like corruption.
  let end = maxChars;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}… (${text.length} chars)`;
}

/**
 * A whole message cut to at most `maxBytes` of UTF-8 (the wire's string limit by default), on a character
 * boundary, ending with an ellipsis and the original byte length when cut. The last line of defence for messages
 * built from text we did not quote through `quoteForMessage` (e.g. an adapter's own error).
 */
export function fitMessage(message: string, maxBytes = MAX_STRING_BYTES): string {
  const bytes = Buffer.byteLength(message);
  if (bytes <= maxBytes) return message;
  const suffix = `… (${bytes} bytes)`;
  const room = maxBytes - Buffer.byteLength(suffix);
  // Cut by bytes, then drop a trailing partial character (decoding it would yield U+FFFD, 3 bytes).
  let head = Buffer.from(message).subarray(0, room).toString('utf8');
  while (head.endsWith('\ufffd') || Buffer.byteLength(head) > room) head = head.slice(0, -1);
  return `${head}${suffix}`;
}
