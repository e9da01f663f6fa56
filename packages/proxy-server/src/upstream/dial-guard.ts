// Every open of an upstream nobody holds yet dials the vendor. Against Alpaca a dial spends the user's connection
// and rate budget, and a local process could make the daemon dial once per bogus key it invents. So: credentials the
// upstream refused are refused locally for a while (no dial), and new dials are bounded per account and in all.

import { DaemonErrorCode } from '@wsproxy/protocol';
import { WsproxyServerError } from '../errors.js';
import type { ResolvedDialLimits } from '../limits.js';
import { CredentialHasher } from './credential-identity.js';

const MINUTE_MS = 60_000;
/** Refused identities remembered at once; the oldest is forgotten first (it only costs one more dial). */
const MAX_REMEMBERED_REFUSALS = 4096;

/** The daemon refused to dial because too many dials were made in the last minute. */
export class DialRateLimitedError extends WsproxyServerError {
  readonly retryAfterMs: number;

  constructor(scope: 'account' | 'daemon', limit: number, retryAfterMs: number) {
    super(
      DaemonErrorCode.RATE_LIMITED,
      scope === 'account'
        ? `more than ${limit} upstream dials for this account in the last minute (maxDialsPerAccountPerMinute); retry in ${Math.ceil(retryAfterMs / 1000)} s`
        : `more than ${limit} upstream dials for accounts not yet accepted in the last minute (maxDialsPerMinute); retry in ${Math.ceil(retryAfterMs / 1000)} s`,
    );
    this.name = 'DialRateLimitedError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** True for an error that says the upstream refused the credentials themselves (not a network failure). */
export function isCredentialRefusal(error: unknown): boolean {
  const { code, credentialsRefused } = (error ?? {}) as { code?: unknown; credentialsRefused?: unknown };
  return code === DaemonErrorCode.AUTH_FAILED || credentialsRefused === true;
}

interface Refusal {
  readonly proof: Buffer;
  readonly error: unknown;
  readonly until: number;
}

export class DialGuard {
  /** Per upstream key (adapter, url, account): the proof the upstream refused, and its error. */
  private readonly refusals = new Map<string, Refusal>();
  /** Dial times in the last minute, per account and in all (each list at most its limit long). */
  private readonly perAccount = new Map<string, number[]>();
  private readonly all: number[] = [];
  /**
   * Accounts the upstream has accepted: their dials count against their own bound only, so a process inventing keys
   * uses up the shared budget for unknown accounts, never the user's own.
   */
  private readonly knownGood = new Set<string>();

  constructor(
    private readonly limits: ResolvedDialLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Throws the upstream's own refusal when these very credentials were refused recently, or `DialRateLimitedError`
   * when a dial now would exceed a bound; else counts the dial.
   */
  admit(key: string, principal: string, proof: Buffer): void {
    const now = this.now();
    const refusal = this.refusals.get(key);
    if (refusal) {
      if (refusal.until <= now) this.refusals.delete(key);
      else if (CredentialHasher.sameProof(refusal.proof, proof)) throw refusal.error;
    }
    const account = this.recent(this.perAccount.get(principal) ?? [], now);
    if (account.length >= this.limits.maxDialsPerAccountPerMinute) {
      throw new DialRateLimitedError(
        'account',
        this.limits.maxDialsPerAccountPerMinute,
        account[0]! + MINUTE_MS - now,
      );
    }
    const known = this.knownGood.has(principal);
    const all = this.recent(this.all, now);
    if (!known && all.length >= this.limits.maxDialsPerMinute) {
      throw new DialRateLimitedError('daemon', this.limits.maxDialsPerMinute, all[0]! + MINUTE_MS - now);
    }
    account.push(now);
    if (!known) all.push(now);
    this.perAccount.set(principal, account);
    if (this.perAccount.size > MAX_REMEMBERED_REFUSALS) this.pruneAccounts(now);
  }

  /** The upstream refused these credentials: refuse them locally for `authFailureCacheMs`. */
  refused(key: string, proof: Buffer, error: unknown): void {
    this.refusals.delete(key);
    this.refusals.set(key, { proof, error, until: this.now() + this.limits.authFailureCacheMs });
    if (this.refusals.size > MAX_REMEMBERED_REFUSALS) {
      this.refusals.delete(this.refusals.keys().next().value as string);
    }
  }

  /** The credentials were accepted (e.g. after a key was fixed at the vendor): forget an earlier refusal. */
  accepted(key: string, principal: string): void {
    this.refusals.delete(key);
    if (this.knownGood.size >= MAX_REMEMBERED_REFUSALS) this.knownGood.clear();
    this.knownGood.add(principal);
  }

  private recent(times: number[], now: number): number[] {
    let drop = 0;
    while (drop < times.length && times[drop]! <= now - MINUTE_MS) drop++;
    if (drop > 0) times.splice(0, drop);
    return times;
  }

  private pruneAccounts(now: number): void {
    for (const [principal, times] of this.perAccount) {
      if (this.recent(times, now).length === 0) this.perAccount.delete(principal);
    }
  }
}
