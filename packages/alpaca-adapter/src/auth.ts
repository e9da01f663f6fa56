// Strategies keep sending their own auth message, as they would to Alpaca. The shared session is already
// authenticated with the owner's credentials, so the adapter answers locally: success if the strategy's credentials
// are the owner's, 402 otherwise. Nothing is forwarded, and secrets are only ever held as hashes for comparison.

import { createHash, timingSafeEqual } from 'node:crypto';

export interface AlpacaCredentials {
  /** `APCA-API-KEY-ID` (or `"oauth"` / `"access_token"` with a token as secret). */
  readonly keyId: string;
  readonly secretKey: string;
}

function digest(credentials: AlpacaCredentials): Buffer {
  // Length-prefixed so that ("ab","c") and ("a","bc") differ.
  return createHash('sha256')
    .update(`${credentials.keyId.length}:${credentials.keyId}:${credentials.secretKey}`)
    .digest();
}

/** Holds a hash of the owner's credentials and compares others to it in constant time. */
export class CredentialCheck {
  private readonly ownerDigest: Buffer;

  constructor(owner: AlpacaCredentials) {
    this.ownerDigest = digest(owner);
  }

  matches(candidate: AlpacaCredentials): boolean {
    return timingSafeEqual(this.ownerDigest, digest(candidate));
  }
}

/**
 * Reads credentials out of a strategy's auth message, in either of Alpaca's shapes:
 * `{"action":"auth","key":..,"secret":..}` or `{"action":"authenticate","data":{"key_id":..,"secret_key":..}}`.
 * Returns undefined when the message is not an auth message; `null` when it is one but malformed.
 */
export function credentialsFromAuthMessage(message: unknown): AlpacaCredentials | null | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  if (m.action === 'auth') {
    return typeof m.key === 'string' && typeof m.secret === 'string'
      ? { keyId: m.key, secretKey: m.secret }
      : null;
  }
  if (m.action === 'authenticate') {
    const data = m.data as Record<string, unknown> | undefined;
    // Some SDKs send key_id/secret_key, the current docs key/secret inside data.
    const keyId = data?.key_id ?? data?.key;
    const secretKey = data?.secret_key ?? data?.secret;
    return typeof keyId === 'string' && typeof secretKey === 'string' ? { keyId, secretKey } : null;
  }
  return undefined;
}

/** Credentials from the environment, as Alpaca's SDKs read them. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): AlpacaCredentials | undefined {
  const keyId = env.APCA_API_KEY_ID;
  const secretKey = env.APCA_API_SECRET_KEY;
  return keyId && secretKey ? { keyId, secretKey } : undefined;
}
