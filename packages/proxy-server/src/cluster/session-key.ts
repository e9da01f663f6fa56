import { createHash, createHmac } from 'node:crypto';

/**
 * The cluster-wide name of one upstream session (url + account), used as its lease key and in its subjects.
 *
 * Every daemon must derive the same name for the same account without sharing a secret over the bus, and a
 * daemon that does not know the account's secret must not be able to find (let alone join) its session. So the
 * name is an HMAC keyed by the account's secret over the URL and the account's key id: equal on every host that
 * holds the same credentials, useless to anyone who sees it on the bus. Without credentials it is a plain hash of
 * the URL. Hex only, so it is a valid KV key and subject token.
 */
export function sessionKey(
  url: string,
  credentials?: { readonly key: string; readonly secret: string } | null,
): string {
  const name = `wsproxy-session\u0000${url}\u0000${credentials?.key ?? ''}`;
  const digest = credentials
    ? createHmac('sha256', credentials.secret).update(name).digest('hex')
    : createHash('sha256').update(name).digest('hex');
  // 128 bits is plenty to tell sessions apart and keeps subjects short.
  return digest.slice(0, 32);
}
