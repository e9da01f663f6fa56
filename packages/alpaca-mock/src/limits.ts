/**
 * The limits that make Alpaca hard to share, enforced as the real service does: authenticated sessions per
 * endpoint and key (406 beyond the limit, a dropped session's slot held for `halfDeadMs`), and HTTP 429 for
 * upgrades that come too fast or during a refusal window.
 */
import type { UpgradeRateLimit } from './options.js';

export class ConnectionRegistry {
  private readonly live = new Map<string, Set<object>>();
  private readonly held = new Map<string, number>();
  private readonly holdTimers = new Set<NodeJS.Timeout>();

  /** `onHoldExpired` lets the mock tell waiters that a half-dead slot became free. */
  constructor(private readonly onHoldExpired: () => void = () => {}) {}

  private static slot(endpoint: string, identity: string): string {
    return `${endpoint}\0${identity}`;
  }

  /** Takes a slot for `session` unless `limit` slots (live or half-dead) are taken already. */
  tryAcquire(endpoint: string, identity: string, session: object, limit: number): boolean {
    const slot = ConnectionRegistry.slot(endpoint, identity);
    const sessions = this.live.get(slot) ?? new Set();
    if (sessions.size + (this.held.get(slot) ?? 0) >= limit) return false;
    sessions.add(session);
    this.live.set(slot, sessions);
    return true;
  }

  /** Frees the session's slot, or keeps it occupied for `holdMs` after an abrupt drop. */
  release(endpoint: string, identity: string, session: object, holdMs: number): void {
    const slot = ConnectionRegistry.slot(endpoint, identity);
    const sessions = this.live.get(slot);
    if (!sessions?.delete(session)) return;
    if (sessions.size === 0) this.live.delete(slot);
    if (holdMs <= 0) return;
    this.held.set(slot, (this.held.get(slot) ?? 0) + 1);
    const timer = setTimeout(() => {
      this.holdTimers.delete(timer);
      const n = (this.held.get(slot) ?? 1) - 1;
      if (n > 0) this.held.set(slot, n);
      else this.held.delete(slot);
      this.onHoldExpired();
    }, holdMs);
    this.holdTimers.add(timer);
  }

  /** Half-dead sessions still holding a slot. */
  heldCount(endpoint?: string, identity?: string): number {
    let n = 0;
    for (const [slot, count] of this.held) if (matches(slot, endpoint, identity)) n += count;
    return n;
  }

  /** Forgets every half-dead hold (a restarted server has no memory of them). */
  clearHolds(): void {
    for (const timer of this.holdTimers) clearTimeout(timer);
    this.holdTimers.clear();
    this.held.clear();
  }
}

function matches(slot: string, endpoint?: string, identity?: string): boolean {
  const [e, i] = slot.split('\0');
  return (endpoint === undefined || e === endpoint) && (identity === undefined || i === identity);
}

export class UpgradeGate {
  private refuseUntil = 0;
  private readonly recent: number[] = [];
  /** Upgrades answered with 429. */
  refused = 0;

  constructor(private readonly rateLimit: UpgradeRateLimit | null) {}

  refuseFor(ms: number): void {
    this.refuseUntil = Math.max(this.refuseUntil, Date.now() + ms);
  }

  /** True if this upgrade may proceed; counts it against the rate limit either way. */
  admit(): boolean {
    const now = Date.now();
    if (now < this.refuseUntil) {
      this.refused += 1;
      return false;
    }
    if (this.rateLimit) {
      const since = now - this.rateLimit.windowMs;
      while (this.recent.length > 0 && (this.recent[0] as number) <= since) this.recent.shift();
      if (this.recent.length >= this.rateLimit.max) {
        this.refused += 1;
        return false;
      }
      this.recent.push(now);
    }
    return true;
  }
}
