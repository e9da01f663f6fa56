/**
 * What the upstream (the mock) sent, item by item, with the wall-clock time it went out: the reference the
 * "nothing lost, nothing foreign, nothing duplicated" invariant compares every strategy against. The mock records
 * each session's sent data in order; the ledger stamps new entries on every 'change' (emitted after each feed
 * firing, synchronously after the frames were written), so a stamp is exact to the firing.
 */
import type { AlpacaMock, MockSession } from '@wsproxy/alpaca-mock';
import { type Channel, channelOf, itemKey } from './subscriptions.js';

export interface SentItem {
  readonly key: string;
  readonly channel: Channel;
  readonly symbol: string;
  readonly at: number;
  readonly session: number;
}

export class UpstreamLedger {
  readonly items: SentItem[] = [];
  private readonly seen = new Map<MockSession, number>();
  private readonly onChange = () => this.stamp();

  constructor(
    private readonly mock: AlpacaMock,
    private readonly endpoint: string,
  ) {
    mock.on('change', this.onChange);
  }

  /** Stamps what went out since the last stamp; call right after an injected `push` (it emits no 'change'). */
  stamp(): void {
    const at = Date.now();
    for (const session of this.mock.sessions({ endpoint: this.endpoint })) {
      const data = session.sentData() as Record<string, unknown>[];
      const from = this.seen.get(session) ?? 0;
      if (data.length === from) continue;
      for (let k = from; k < data.length; k++) {
        const item = JSON.parse(JSON.stringify(data[k])) as Record<string, unknown>;
        const channel = channelOf(item.T);
        if (channel)
          this.items.push({ key: itemKey(item), channel, symbol: String(item.S), at, session: session.id });
      }
      this.seen.set(session, data.length);
    }
  }

  /** When each key went out (first time). */
  sentAt(): Map<string, SentItem> {
    const byKey = new Map<string, SentItem>();
    for (const item of this.items) if (!byKey.has(item.key)) byKey.set(item.key, item);
    return byKey;
  }

  stop(): void {
    this.mock.off('change', this.onChange);
  }
}
