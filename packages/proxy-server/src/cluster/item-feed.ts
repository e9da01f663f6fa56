import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { interestSubject, itemSubject, parseItemSubject } from './item-subjects.js';

/** A topic names one (channel, symbol) as `channel/symbol`; channels never hold `/`, symbols may (`BTC/USD`). */
export function topicOf(channel: string, symbol: string): string {
  return `${channel}/${symbol}`;
}

export function splitTopic(topic: string): { channel: string; symbol: string } {
  const slash = topic.indexOf('/');
  return { channel: topic.slice(0, slash), symbol: topic.slice(slash + 1) };
}

/** The holder's side: one routed item, its bytes as the vendor sent them, on its own subject. */
export function publishItem(
  nc: NatsConnection,
  namespace: string,
  session: string,
  channel: string,
  symbol: string,
  data: Uint8Array,
): void {
  nc.publish(itemSubject(namespace, session, channel, symbol), data);
}

/**
 * A follower's side: holds one NATS subscription per topic its host wants, changed only by what changed, and hands
 * each item over with the (channel, symbol) its subject names.
 */
export class ItemFeed {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly nc: NatsConnection;
  private readonly namespace: string;
  private readonly session: string;
  private readonly onItem: (channel: string, symbol: string, data: Uint8Array) => void;

  constructor(
    nc: NatsConnection,
    namespace: string,
    session: string,
    onItem: (channel: string, symbol: string, data: Uint8Array) => void,
  ) {
    this.nc = nc;
    this.namespace = namespace;
    this.session = session;
    this.onItem = onItem;
  }

  topics(): ReadonlySet<string> {
    return new Set(this.subscriptions.keys());
  }

  want(topics: Iterable<string>): void {
    // A closed connection (the daemon is shutting down) takes its subscriptions with it.
    if (this.nc.isClosed()) return;
    const next = new Set(topics);
    for (const [topic, subscription] of this.subscriptions) {
      if (next.has(topic)) continue;
      subscription.unsubscribe();
      this.subscriptions.delete(topic);
    }
    for (const topic of next) {
      if (this.subscriptions.has(topic)) continue;
      const { channel, symbol } = splitTopic(topic);
      const subject = interestSubject(this.namespace, this.session, channel, symbol);
      this.subscriptions.set(
        topic,
        this.nc.subscribe(subject, {
          callback: (error, message) => {
            if (error) return;
            const item = parseItemSubject(message.subject);
            if (item) this.onItem(item.channel, item.symbol, message.data);
          },
        }),
      );
    }
  }

  stop(): void {
    for (const subscription of this.subscriptions.values()) subscription.unsubscribe();
    this.subscriptions.clear();
  }
}
