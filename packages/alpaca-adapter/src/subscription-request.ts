// Validation of a strategy's subscribe/unsubscribe message against its feed, answering locally what Alpaca would
// refuse anyway (400 bad syntax, 410 channel not on this feed, 413 `*` on option quotes) so that a bad request never
// occupies the one upstream change slot.

import { FEED_PROFILES, type FeedProfile } from './feeds.js';
import type { SubscriptionAction, SubscriptionRequest } from './subscription-book.js';

/** Every channel any feed knows, to tell "not on this feed" (410) from "not a channel at all" (ignored). */
const ALL_CHANNELS = new Set(Object.values(FEED_PROFILES).flatMap((p) => p.channels));

export type ParsedRequest =
  | { readonly ok: true; readonly request: SubscriptionRequest }
  | { readonly ok: false; readonly code: number };

export function parseSubscriptionRequest(
  message: Record<string, unknown>,
  profile: FeedProfile,
): ParsedRequest {
  const action = message.action;
  if (action !== 'subscribe' && action !== 'unsubscribe') return { ok: false, code: 400 };
  const channels = new Map<string, string[]>();
  for (const [key, value] of Object.entries(message)) {
    if (key === 'action' || key === 'snapshot') continue;
    if (!profile.channels.includes(key)) {
      if (ALL_CHANNELS.has(key) && Array.isArray(value) && value.length > 0) return { ok: false, code: 410 };
      continue; // derived (corrections, cancelErrors) or unknown keys: Alpaca ignores them
    }
    if (value === undefined || value === null) continue;
    if (!Array.isArray(value)) return { ok: false, code: 400 };
    const symbols: string[] = [];
    for (const s of value) {
      if (typeof s !== 'string' || s.length === 0) return { ok: false, code: 400 };
      symbols.push(s);
    }
    if (symbols.includes('*') && profile.noStar.includes(key)) return { ok: false, code: 413 };
    if (symbols.length > 0) channels.set(key, [...new Set(symbols)]);
  }
  return {
    ok: true,
    request: { action: action as SubscriptionAction, channels, snapshot: message.snapshot === true },
  };
}
