/**
 * One subscription set as the suite compares them: the channels it churns, each a sorted list of symbols. Acks list
 * more keys (corrections and cancelErrors follow trades, empty channels), which carry no information of their own.
 */
export const CHANNELS = ['trades', 'quotes', 'bars'] as const;
export type Channel = (typeof CHANNELS)[number];
export type ChannelSet = Record<Channel, string[]>;

/** Symbols the strategies churn: few enough that they overlap (shared upstream symbols), under the 30 limit. */
export const SYMBOLS = ['AAPL', 'MSFT', 'AMD', 'TSLA', 'NVDA', 'AMZN'] as const;

export function emptySet(): ChannelSet {
  return { trades: [], quotes: [], bars: [] };
}

/** Normalises an ack, a view or a status field into a ChannelSet; unknown channels are ignored. */
export function toChannelSet(value: unknown): ChannelSet {
  const set = emptySet();
  if (typeof value !== 'object' || value === null) return set;
  for (const channel of CHANNELS) {
    const list = (value as Record<string, unknown>)[channel];
    if (Array.isArray(list)) set[channel] = [...new Set(list.map(String))].sort();
  }
  return set;
}

export function union(sets: readonly ChannelSet[]): ChannelSet {
  const out = emptySet();
  for (const channel of CHANNELS) {
    out[channel] = [...new Set(sets.flatMap((s) => s[channel]))].sort();
  }
  return out;
}

export function sameSet(a: ChannelSet, b: ChannelSet): boolean {
  return CHANNELS.every((c) => a[c].join(',') === b[c].join(','));
}

export function isEmpty(set: ChannelSet): boolean {
  return CHANNELS.every((c) => set[c].length === 0);
}

export function has(set: ChannelSet, channel: Channel, symbol: string): boolean {
  return set[channel].includes(symbol) || set[channel].includes('*');
}

/** `trades:[AAPL] quotes:[] ...` — short enough for a failure line. */
export function describeSet(set: ChannelSet): string {
  return CHANNELS.map((c) => `${c}:[${set[c].join(',')}]`).join(' ');
}

/** The channel a data item belongs to (corrections and cancel-errors follow trades), or undefined. */
export function channelOf(type: unknown): Channel | undefined {
  switch (type) {
    case 't':
    case 'c':
    case 'x':
      return 'trades';
    case 'q':
      return 'quotes';
    case 'b':
      return 'bars';
    default:
      return undefined;
  }
}

/**
 * The identity of one data item, equal on the mock's record and in a strategy: type, symbol, timestamp (RFC 3339
 * with nanoseconds, as the mock writes it) and the trade id when there is one.
 */
export function itemKey(item: Record<string, unknown>): string {
  return `${String(item.T)}|${String(item.S)}|${String(item.t)}|${item.i === undefined ? '' : String(item.i)}`;
}
