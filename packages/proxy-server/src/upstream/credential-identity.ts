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

/**
 * Headers known to carry no secret: they describe the client or the request, not who it is. For an adapter that
 * does not declare its credential headers (passthrough among them), every header NOT listed here is part of the
 * credential identity, so a secret in `X-Auth-Token`, `Api-Key` or any header we never heard of still guards the
 * session. Matched case-insensitively.
 */
export const HARMLESS_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'content-type',
  'dnt',
  'origin',
  'pragma',
  'referer',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'user-agent',
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
  /**
   * Whether the credentials name an account (a key id in `credentials` or a principal header): dials for those spend
   * a vendor account's budget and are bounded per account.
   */
  readonly namesAccount: boolean;
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

  /**
   * `declared`: the credential headers the adapter names (beside the well-known `CREDENTIAL_HEADERS`); when absent,
   * every header that is not in `HARMLESS_HEADERS` counts.
   */
  identify(material: CredentialMaterial, declared?: readonly string[]): CredentialIdentity {
    const secrets: string[] = [];
    let principal = '';
    const counts = credentialHeaderTest(declared);
    for (const [rawName, value] of Object.entries(material.headers ?? {})) {
      const name = rawName.toLowerCase();
      if (!counts(name)) continue;
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
      namesAccount: principal !== '',
      principal: createHmac('sha256', this.key).update('principal\u0000').update(principal).digest('hex'),
      proof: proofHmac.digest(),
      authenticated,
    };
  }

  static sameProof(a: Buffer, b: Buffer): boolean {
    return a.byteLength === b.byteLength && timingSafeEqual(a, b);
  }
}

/** Whether a header (lower-case name) is part of the credential identity, for an adapter declaring `declared`. */
export function credentialHeaderTest(declared?: readonly string[]): (name: string) => boolean {
  if (!declared) return (name) => !HARMLESS_HEADERS.has(name);
  const names = new Set([...CREDENTIAL_HEADERS, ...declared.map((name) => name.toLowerCase())]);
  return (name) => names.has(name);
}

/** Header names to show in logs and status: credential values replaced. */
export function redactHeaders(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    out[name] = CREDENTIAL_HEADERS.has(name.toLowerCase()) ? '[redacted]' : value;
  }
  return out;
}
