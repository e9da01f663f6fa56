// Drives an AlpacaSession the way the daemon does, recording what it sends upstream and what each client receives.
import { decode, encode } from '@msgpack/msgpack';
import {
  AlpacaSession,
  type AlpacaSessionOptions,
  type ClientId,
  type Encoding,
  FEED_PROFILES,
  type SessionEvent,
} from '../src/index.js';

export const OWNER = { keyId: 'PKTEST', secretKey: 'owner-secret' };

export interface Delivery {
  readonly recipients: readonly ClientId[];
  readonly bytes: Buffer;
  readonly isBinary: boolean;
}

export class SessionHarness {
  readonly upstream: Record<string, unknown>[] = [];
  readonly deliveries: Delivery[] = [];
  readonly events: SessionEvent[] = [];
  readonly session: AlpacaSession;
  readonly encoding: Encoding;

  constructor(options: Partial<AlpacaSessionOptions> & Pick<AlpacaSessionOptions, 'feed'>) {
    this.encoding = options.encoding ?? 'json';
    this.session = new AlpacaSession(
      { credentials: OWNER, ...options, encoding: this.encoding },
      {
        deliver: (recipients, bytes, isBinary) =>
          this.deliveries.push({ recipients: [...recipients], bytes: Buffer.from(bytes), isBinary }),
        sendUpstream: (bytes, isBinary) =>
          this.upstream.push(
            (isBinary ? decode(bytes) : JSON.parse(Buffer.from(bytes).toString())) as Record<string, unknown>,
          ),
        event: (event) => this.events.push(event),
      },
    );
  }

  /** One upstream frame, in the session's encoding. */
  fromUpstream(messages: readonly unknown[]): void {
    const bytes = this.encoding === 'json' ? Buffer.from(JSON.stringify(messages)) : encode(messages);
    this.session.onUpstreamMessage(bytes, this.encoding === 'msgpack');
  }

  /** Open + connected + authenticated, as Alpaca does it. */
  connect(): void {
    this.session.onUpstreamOpen();
    this.fromUpstream([{ T: 'success', msg: 'connected' }]);
    this.fromUpstream([{ T: 'success', msg: 'authenticated' }]);
  }

  attach(...ids: ClientId[]): void {
    for (const id of ids) this.session.onClientAttached(id, { greet: false });
  }

  send(client: ClientId, message: unknown): void {
    this.session.onClientMessage(client, Buffer.from(JSON.stringify(message)), false);
  }

  /** Everything client `id` received, decoded, one array per frame. */
  received(id: ClientId): unknown[][] {
    return this.deliveries
      .filter((d) => d.recipients.includes(id))
      .map((d) => (d.isBinary ? decode(d.bytes) : JSON.parse(d.bytes.toString())) as unknown[]);
  }

  /** The messages client `id` received, flattened. */
  messages(id: ClientId): Record<string, unknown>[] {
    return this.received(id).flat() as Record<string, unknown>[];
  }

  /** Answers the upstream's last subscribe/unsubscribe as Alpaca would, given the union it should now hold. */
  ack(set: Record<string, string[]>): void {
    // Alpaca lists every key of the feed, derived ones following their source.
    const profile = FEED_PROFILES[this.session.feed];
    const full: Record<string, unknown> = { T: 'subscription' };
    for (const key of profile.ackKeys) full[key] = set[profile.derived[key] ?? key] ?? [];
    this.fromUpstream([full]);
  }

  clear(): void {
    this.upstream.length = 0;
    this.deliveries.length = 0;
    this.events.length = 0;
  }
}

/** Stocks ack for a given set, as Alpaca (and the mock) shape it. */
export function stockAck(set: {
  trades?: string[];
  quotes?: string[];
  bars?: string[];
}): Record<string, unknown> {
  const trades = set.trades ?? [];
  return {
    T: 'subscription',
    trades,
    quotes: set.quotes ?? [],
    bars: set.bars ?? [],
    updatedBars: [],
    dailyBars: [],
    statuses: [],
    lulds: [],
    corrections: trades,
    cancelErrors: trades,
    imbalances: [],
  };
}
