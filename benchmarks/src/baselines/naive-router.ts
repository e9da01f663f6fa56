// Baseline: the Alpaca router a user writes first — parse the frame, filter its items per client, re-serialise
// each client's share. Correct, simple, and it touches every byte several times per client.
import { decode as decodeMsgpack, encode as encodeMsgpack } from '@msgpack/msgpack';
import type { AlpacaItem, Encoding, Subscriptions } from './alpaca-workload.js';

const CHANNEL_OF_TYPE: Record<string, string> = { t: 'trades', q: 'quotes', b: 'bars' };

export class NaiveRouter {
  private readonly clients: { id: number; channels: Map<string, Set<string>> }[];

  constructor(
    readonly encoding: Encoding,
    subs: Subscriptions,
  ) {
    this.clients = [...subs].map(([id, channels]) => ({ id, channels }));
  }

  private wants(channels: Map<string, Set<string>>, it: AlpacaItem): boolean {
    const set = channels.get(CHANNEL_OF_TYPE[it.T] ?? '');
    return set !== undefined && (set.has(it.S) || set.has('*'));
  }

  /** Routes one frame; returns the bytes produced (so the work cannot be optimised away). */
  route(frame: Buffer): number {
    const items = (
      this.encoding === 'json' ? JSON.parse(frame.toString('utf8')) : decodeMsgpack(frame)
    ) as AlpacaItem[];
    let produced = 0;
    for (const client of this.clients) {
      const mine = items.filter((it) => this.wants(client.channels, it));
      if (mine.length === 0) continue;
      produced += this.encoding === 'json' ? JSON.stringify(mine).length : encodeMsgpack(mine).length;
    }
    return produced;
  }
}
