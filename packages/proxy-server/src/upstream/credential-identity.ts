import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Header names whose values are secrets or identify an account. They select and guard an upstream connection
 * and are never logged. Matched case-insensitively.
 */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'apca-api-key-id',
  'apca-api-secret-key',
  'x-api-key',
]);

/** Headers that name the account (not secret on their own): different accounts get different upstreams. */
const PRINCIPAL_HEADERS = ['apca-api-key-id', 'x-api-key-id'];

export interface CredentialMaterial {
  readonly headers?: Readonly<Record<string, string>>;
  /** Credentials for the adapter (e.g. Alpaca's auth message): `key` names the account, `secret` proves it. */
  readonly credentials?: { readonly key: string; readonly secret: string } | null;
}

export interface CredentialIdentity {
  /** HMAC of the account name: part of the upstream key, so two accounts never share a session. */
  readonly principal: string;
  /** HMAC of every secret: a joiner must match the owner's proof. */
  readonly proof: Buffer;
  /** Whether any credential at all was presented. */
  readonly authenticated: boolean;
}

/**
 * Turns credentials into keyed hashes with a random per-daemon key, so the registry can compare them in constant
 * time without keeping secrets around in a form that would be useful if dumped.
 */
export class CredentialHasher {
  private readonly key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.key = key;
  }

  identify(material: CredentialMaterial): CredentialIdentity {
    const secrets: string[] = [];
    let principal = '';
    for (const [rawName, value] of Object.entries(material.headers ?? {})) {
      const name = rawName.toLowerCase();
      if (!CREDENTIAL_HEADERS.has(name)) continue;
      secrets.push(`${name}\u0000${value}`);
      if (PRINCIPAL_HEADERS.includes(name)) principal = value;
    }
    secrets.sort();
    const proofHmac = createHmac('sha256', this.key).update('proof\u0000');
    for (const secret of secrets) proofHmac.update(secret).update('\u0001');
    const credentials = material.credentials;
    if (credentials) {
      if (credentials.key) principal = credentials.key;
      proofHmac
        .update('credentials\u0000')
        .update(credentials.key)
        .update('\u0000')
        .update(credentials.secret);
    }
    const authenticated = secrets.length > 0 || Boolean(credentials);
    return {
      principal: createHmac('sha256', this.key).update('principal\u0000').update(principal).digest('hex'),
      proof: proofHmac.digest(),
      authenticated,
    };
  }

  static sameProof(a: Buffer, b: Buffer): boolean {
    return a.byteLength === b.byteLength && timingSafeEqual(a, b);
  }
}

/** Header names to show in logs and status: credential values replaced. */
export function redactHeaders(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    out[name] = CREDENTIAL_HEADERS.has(name.toLowerCase()) ? '[redacted]' : value;
  }
  return out;
}
