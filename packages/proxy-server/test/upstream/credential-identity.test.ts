// Credential identity: what selects an upstream (the principal) and what guards joining it (the proof), both keyed
// hashes that never equal the secret, compared in constant time.
import { describe, expect, it } from 'vitest';
import { CredentialHasher } from '../../src/upstream/credential-identity.js';

describe('CredentialHasher', () => {
  const hasher = new CredentialHasher();

  it('one key with two secrets: the same principal, different proofs', () => {
    const a = hasher.identify({ credentials: { key: 'PK1', secret: 'one' } });
    const b = hasher.identify({ credentials: { key: 'PK1', secret: 'two' } });
    expect(a.principal).toBe(b.principal);
    expect(CredentialHasher.sameProof(a.proof, b.proof)).toBe(false);
    expect(
      CredentialHasher.sameProof(
        a.proof,
        hasher.identify({ credentials: { key: 'PK1', secret: 'one' } }).proof,
      ),
    ).toBe(true);
    expect(a.authenticated).toBe(true);
  });

  it('Alpaca key headers and credentials name the same principal; nothing secret shows in the hashes', () => {
    const viaHeaders = hasher.identify({
      headers: { 'APCA-API-KEY-ID': 'PK1', 'APCA-API-SECRET-KEY': 'one' },
    });
    const viaCredentials = hasher.identify({ credentials: { key: 'PK1', secret: 'one' } });
    expect(viaHeaders.principal).toBe(viaCredentials.principal);
    expect(viaHeaders.principal).not.toContain('PK1');
    expect(viaHeaders.proof.toString('latin1')).not.toContain('one');
  });

  it('no credentials: anonymous, and two daemons (two hash keys) never produce comparable hashes', () => {
    const anonymous = hasher.identify({});
    expect(anonymous.authenticated).toBe(false);
    const other = new CredentialHasher().identify({ credentials: { key: 'PK1', secret: 'one' } });
    expect(other.principal).not.toBe(
      hasher.identify({ credentials: { key: 'PK1', secret: 'one' } }).principal,
    );
  });
});
