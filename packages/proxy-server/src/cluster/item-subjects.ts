/**
 * NATS subjects of routed items: `wsproxy.<namespace>.<session>.<channel>.<symbol>`, one per item, so NATS does the
 * cross-host fan-out (once per host that subscribed, not once per process) and each daemon subscribes to exactly
 * what its local clients want.
 *
 * Symbols are not subject-safe as they are: `BRK.B` has the token separator, crypto pairs have `/`, and Alpaca's
 * `*` (every symbol) is NATS's one-token wildcard. Every token is therefore escaped ([A-Za-z0-9_-] pass, any other
 * byte becomes `=XX`), and Alpaca's `*` is turned into the NATS wildcard only on the subscribing side.
 */
const SAFE = /^[A-Za-z0-9_-]$/;

export const EVERY_SYMBOL = '*';

export function encodeToken(token: string): string {
  let out = '';
  for (const byte of Buffer.from(token, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += SAFE.test(char) ? char : `=${byte.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}

export function decodeToken(token: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '=') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The subject one item is published on (the holder's side). */
export function itemSubject(namespace: string, session: string, channel: string, symbol: string): string {
  return `wsproxy.${encodeToken(namespace)}.${session}.${encodeToken(channel)}.${encodeToken(symbol)}`;
}

/** The subject a follower subscribes to for one wanted (channel, symbol); `*` listens to every symbol. */
export function interestSubject(namespace: string, session: string, channel: string, symbol: string): string {
  const last = symbol === EVERY_SYMBOL ? '*' : encodeToken(symbol);
  return `wsproxy.${encodeToken(namespace)}.${session}.${encodeToken(channel)}.${last}`;
}

/** The (channel, symbol) an item subject names. */
export function parseItemSubject(subject: string): { channel: string; symbol: string } | null {
  const tokens = subject.split('.');
  if (tokens.length !== 5 || tokens[0] !== 'wsproxy') return null;
  return { channel: decodeToken(tokens[3]!), symbol: decodeToken(tokens[4]!) };
}
