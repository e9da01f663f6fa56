import type { AdapterStats } from '@wsproxy/protocol';
import type { Logger } from 'pino';
import type { EndpointProtocol } from './endpoint/endpoint-protocol.js';
import { InvalidArgumentError } from './errors.js';

/** A daemon-assigned number naming one connected client process for as long as it stays connected. */
export type ClientId = number;

/** What an adapter may see and do for one shared upstream connection. */
export interface AdapterContext {
  readonly url: string;
  /** Request headers of the connection's owner (credential values included: for the adapter's eyes only). */
  readonly headers: Readonly<Record<string, string>>;
  /** Credentials the owner presented, e.g. for an auth message. Never log them, never deliver them. */
  readonly credentials: { readonly key: string; readonly secret: string } | null;
  readonly logger: Logger;
  /** Clients currently attached to this upstream. */
  members(): ReadonlySet<ClientId>;
  /** Sends a frame upstream; false when the upstream is not open right now. */
  sendUpstream(data: Uint8Array | string, isBinary: boolean): boolean;
  /**
   * Hands one frame to some clients, written once into the shared ring. `'all'` means every member, and also the
   * openers still waiting for the upstream to be ready (so a greeting sent on connect reaches the first opener).
   */
  deliver(recipients: Iterable<ClientId> | 'all', data: Uint8Array, isBinary: boolean): void;
}

export interface UpstreamFrame {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** The answer to a subscribe (or restore) request. */
export interface SubscribeResult {
  /** Another client already held (some of) it, so nothing new went upstream for it. */
  readonly alreadySubscribed: boolean;
  /** The adapter's reply to the requester (Alpaca: the ack listing the client's own set). May be empty. */
  readonly reply?: Uint8Array;
  /**
   * The requester's ACKNOWLEDGED subscription state after the request, in the adapter's own encoding: what the
   * client stores and hands back to `restore` after a daemon restart. A request the upstream rejected leaves it as it
   * was. Omitted by adapters that keep no state (their clients then have nothing to restore).
   */
  readonly state?: Uint8Array;
}

/** The answer to an unsubscribe request. */
export interface UnsubscribeResult {
  /** Other clients still hold (some of) it, so it stays subscribed upstream. */
  readonly stillSubscribed: boolean;
  readonly reply?: Uint8Array;
  /** As in `SubscribeResult`: the requester's acknowledged state after the request. */
  readonly state?: Uint8Array;
}

/**
 * The hook through which protocol knowledge enters the daemon (issue 8's Alpaca adapter is one). One instance per
 * upstream connection. Every method is optional except routing: the daemon's defaults are plain passthrough.
 */
export interface UpstreamAdapter {
  /** After every (re)connect; opens complete only when this resolves (e.g. Alpaca: authenticated). */
  onUpstreamOpen?(reconnected: boolean): Promise<void> | void;
  /**
   * The upstream connection is gone (or a redial failed) and the daemon is dialling again: nothing sent now reaches
   * the vendor, and anything remembered of the old session (its authentication, latest items) is stale. Called at
   * once, before the next `onUpstreamOpen(true)`; may be called more than once per outage.
   */
  onUpstreamLost?(): void;
  /** A frame from upstream: decide who gets it (call `ctx.deliver`). */
  onUpstreamFrame(frame: UpstreamFrame): void;
  /** A frame a client sent; the default forwards it upstream unchanged. */
  onClientFrame?(client: ClientId, frame: UpstreamFrame): void;
  onClientJoin?(client: ClientId): void;
  /** The client closed the socket, or died: release whatever it held. */
  onClientLeave?(client: ClientId): void;
  /** `params` is the adapter's own encoding, passed through from the client untouched. */
  subscribe?(client: ClientId, params: Uint8Array): Promise<SubscribeResult> | SubscribeResult;
  unsubscribe?(client: ClientId, params: Uint8Array): Promise<UnsubscribeResult> | UnsubscribeResult;
  /**
   * Makes the client's acknowledged set equal to `state` (a `state` this adapter answered before, kept by the client
   * across a daemon restart), changing the upstream only by what the union lacks or no longer needs.
   */
  restore?(client: ClientId, state: Uint8Array): Promise<SubscribeResult> | SubscribeResult;
  /**
   * Each member's acknowledged set as plain JSON (shown by `wsproxy status` under the upstream's `subscriptions`),
   * so a tool can compare each process's view, the daemon's and the upstream's.
   */
  subscriptions?(): ReadonlyMap<ClientId, unknown>;
  dispose?(): void;
  /**
   * The adapter's own figures (authenticated?, subscriptions per channel, items routed): read when someone asks for
   * `wsproxy status` or scrapes `/metrics`, never on the data path. Keep it cheap and free of symbols or secrets.
   */
  stats?(): AdapterStats;
}

export interface UpstreamAdapterFactory {
  /** The name clients ask for in `open(url, { adapter })`. */
  readonly name: string;
  create(context: AdapterContext): UpstreamAdapter;
  /** The vendor protocol this adapter speaks on the daemon's drop-in endpoint (`wsproxy start --listen`), if any. */
  readonly endpoint?: EndpointProtocol;
  /**
   * Request headers that carry this adapter's credentials (case-insensitive), beside the well-known ones
   * (`Authorization`, `Cookie`, `APCA-API-KEY-ID`, ...). A client joining an upstream must present the same values
   * as its owner. Left out (as passthrough does), EVERY header not known to be harmless (`User-Agent`, `Accept`,
   * `Origin`, ...) counts: a secret in a header we never heard of still guards the session.
   */
  readonly credentialHeaders?: readonly string[];
}

/**
 * Every frame to every member, unchanged. Passthrough knows no vendor's subscription scheme, so a subscription is
 * an opaque topic: its `params` (UTF-8 text) are sent upstream as one text frame by the first client that subscribes
 * and answered locally for later ones, and every held topic is sent again after an upstream reconnect (a new
 * upstream connection knows none of them). Unsubscribe only drops the client's hold (passthrough cannot know the
 * vendor's unsubscribe message; send it with `send()` when `stillSubscribed` is false). A client's state is the JSON
 * array of the topics it holds.
 */
export const passthrough: UpstreamAdapterFactory = {
  name: 'passthrough',
  create(context) {
    const holders = new Map<string, Set<ClientId>>();
    const topicOf = (params: Uint8Array) =>
      Buffer.from(params.buffer, params.byteOffset, params.byteLength).toString('utf8');
    const topicsOf = (client: ClientId) =>
      [...holders].filter(([, set]) => set.has(client)).map(([topic]) => topic);
    const stateOf = (client: ClientId) => Buffer.from(JSON.stringify(topicsOf(client)));
    const hold = (client: ClientId, topic: string): boolean => {
      const set = holders.get(topic);
      if (set) {
        set.add(client);
        return true;
      }
      holders.set(topic, new Set([client]));
      // Sent even while the upstream is down? `sendUpstream` says no then, and the reconnect re-sends every topic.
      context.sendUpstream(topic, false);
      return false;
    };
    const release = (client: ClientId, topic: string): boolean => {
      const set = holders.get(topic);
      set?.delete(client);
      if (set && set.size === 0) holders.delete(topic);
      return (set?.size ?? 0) > 0;
    };
    return {
      onUpstreamOpen(reconnected) {
        if (!reconnected) return;
        for (const topic of holders.keys()) context.sendUpstream(topic, false);
      },
      onUpstreamFrame(frame) {
        context.deliver('all', frame.data, frame.isBinary);
      },
      subscribe(client, params) {
        const alreadySubscribed = hold(client, topicOf(params));
        return { alreadySubscribed, state: stateOf(client) };
      },
      unsubscribe(client, params) {
        const stillSubscribed = release(client, topicOf(params));
        return { stillSubscribed, state: stateOf(client) };
      },
      restore(client, state) {
        const wanted = parseTopics(state);
        for (const topic of topicsOf(client)) if (!wanted.includes(topic)) release(client, topic);
        let alreadySubscribed = true;
        for (const topic of wanted) alreadySubscribed = hold(client, topic) && alreadySubscribed;
        return { alreadySubscribed, state: stateOf(client) };
      },
      subscriptions() {
        return new Map([...context.members()].map((client) => [client, topicsOf(client)]));
      },
      onClientLeave(client) {
        for (const topic of topicsOf(client)) release(client, topic);
      },
    };
  },
};

/** A passthrough state: a JSON array of topic strings, else `InvalidArgumentError` to the one who sent it. */
function parseTopics(state: Uint8Array): string[] {
  let topics: unknown;
  try {
    topics = JSON.parse(Buffer.from(state).toString('utf8'));
  } catch {
    topics = undefined;
  }
  if (!Array.isArray(topics) || !topics.every((t) => typeof t === 'string')) {
    throw new InvalidArgumentError('a passthrough subscription state must be a JSON array of topic strings');
  }
  return topics as string[];
}
