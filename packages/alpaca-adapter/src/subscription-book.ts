// The subscription book of one upstream session: who wants which (channel, symbol), with a reference count per key
// so that only changes to the UNION ever go upstream. Alpaca's acks and errors carry no request id, so at most one
// change is in flight at a time and everything else waits in a queue; whatever answer arrives next belongs to the
// change in flight. That is what lets a 405 go back to exactly the client that caused it.

import type { FeedProfile } from './feeds.js';
import type { ClientId, RoutingTable } from './router.js';

/** channel -> symbols */
export type ChannelSymbols = Map<string, Set<string>>;

export type SubscriptionAction = 'subscribe' | 'unsubscribe';

/** A client's request, validated (see parseSubscriptionRequest). */
export interface SubscriptionRequest {
  readonly action: SubscriptionAction;
  /** channel -> symbols named in the request (may include `*`). */
  readonly channels: ReadonlyMap<string, readonly string[]>;
  /** wsproxy extension: deliver a consistent initial state for the new symbols before live data. */
  readonly snapshot: boolean;
}

/** What a completed request changed, for late-joiner replay and snapshots. */
export interface CommittedChange {
  readonly clientId: ClientId;
  readonly request: SubscriptionRequest;
  /** Keys the client did not have before (subscribe) or no longer has (unsubscribe). */
  readonly changed: ChannelSymbols;
  /** Of those, the keys that changed the union (went upstream). */
  readonly upstreamChanged: ChannelSymbols;
}

/** What the book asks of its owner. All calls are synchronous and do no I/O themselves. */
export interface BookSink {
  /** Send one (un)subscribe message upstream, listing only the union's change. */
  sendUpstream(action: SubscriptionAction, channels: ChannelSymbols): void;
  /** The request of `clientId` completed: answer it with an ack of its own set. */
  requestCompleted(change: CommittedChange): void;
  /** The request of `clientId` was refused (by Alpaca, e.g. 405/410): only it hears about it. */
  requestRejected(clientId: ClientId, code: number, msg: string, request?: SubscriptionRequest): void;
  /** The routing table changed (call router.setRoutingTable). */
  routingChanged(): void;
}

type Op =
  | { readonly kind: 'client'; readonly clientId: ClientId; readonly request: SubscriptionRequest }
  | { readonly kind: 'release'; readonly clientId: ClientId }
  | { readonly kind: 'resync' };

interface InFlight {
  readonly op: Op;
  readonly action: SubscriptionAction;
  readonly delta: ChannelSymbols;
  /** The client-side change to commit when the upstream acks. */
  readonly changed: ChannelSymbols;
}

interface ClientEntry {
  /** Acknowledged set: what acks list and what the reference counts count. */
  readonly committed: ChannelSymbols;
  /** Keys the client asked to drop whose unsubscribe is still queued: no more data for them from now on. */
  readonly muted: ChannelSymbols;
  gone: boolean;
}

export interface BookStats {
  /** Subscribe/unsubscribe messages sent upstream. */
  upstreamRequests: number;
  /** Requests answered without any upstream traffic (the union already covered them). */
  localRequests: number;
  /** Requests refused (by Alpaca or locally). */
  rejectedRequests: number;
}

function add(map: ChannelSymbols, channel: string, symbol: string): void {
  let set = map.get(channel);
  if (!set) {
    set = new Set();
    map.set(channel, set);
  }
  set.add(symbol);
}

function has(map: ChannelSymbols, channel: string, symbol: string): boolean {
  return map.get(channel)?.has(symbol) ?? false;
}

function remove(map: ChannelSymbols, channel: string, symbol: string): void {
  const set = map.get(channel);
  if (!set) return;
  set.delete(symbol);
  if (set.size === 0) map.delete(channel);
}

function isEmpty(map: ChannelSymbols): boolean {
  for (const set of map.values()) if (set.size > 0) return false;
  return true;
}

export class SubscriptionBook {
  readonly profile: FeedProfile;
  readonly stats: BookStats = { upstreamRequests: 0, localRequests: 0, rejectedRequests: 0 };
  private readonly sink: BookSink;
  private readonly clients = new Map<ClientId, ClientEntry>();
  /** channel -> symbol -> number of clients whose committed set has it. */
  private readonly refs = new Map<string, Map<string, number>>();
  private readonly queue: Op[] = [];
  private inFlight: InFlight | undefined;
  private upstreamReady = false;
  private routing: RoutingTable | undefined;
  /** The union as Alpaca last acknowledged it (for inspection and diagnostics). */
  private lastUpstreamAck: ReadonlyMap<string, readonly string[]> = new Map();

  constructor(profile: FeedProfile, sink: BookSink) {
    this.profile = profile;
    this.sink = sink;
  }

  // ---- clients ----

  /** Registers a client with an empty set (idempotent). */
  attach(clientId: ClientId): void {
    if (!this.clients.has(clientId))
      this.clients.set(clientId, { committed: new Map(), muted: new Map(), gone: false });
  }

  /** Queues a client's (un)subscribe. Unsubscribed keys stop being routed to it at once. */
  request(clientId: ClientId, request: SubscriptionRequest): void {
    this.attach(clientId);
    const entry = this.clients.get(clientId)!;
    if (request.action === 'unsubscribe') {
      let mutedAny = false;
      for (const [channel, symbols] of request.channels) {
        for (const symbol of symbols) {
          if (has(entry.committed, channel, symbol) && !has(entry.muted, channel, symbol)) {
            add(entry.muted, channel, symbol);
            mutedAny = true;
          }
        }
      }
      if (mutedAny) this.routingDirty();
    }
    this.queue.push({ kind: 'client', clientId, request });
    this.pump();
  }

  /** The client disconnected or died: stop routing to it now; give its keys back once the queue reaches it. */
  release(clientId: ClientId): void {
    const entry = this.clients.get(clientId);
    if (!entry || entry.gone) return;
    entry.gone = true;
    this.routingDirty();
    this.queue.push({ kind: 'release', clientId });
    this.pump();
  }

  /** The client's acknowledged set (what its acks list). */
  setOf(clientId: ClientId): ReadonlyMap<string, ReadonlySet<string>> {
    return this.clients.get(clientId)?.committed ?? new Map();
  }

  /** Live clients. */
  clientIds(): ClientId[] {
    return [...this.clients].filter(([, e]) => !e.gone).map(([id]) => id);
  }

  /** The union all clients need, as channel -> symbols. */
  union(): ChannelSymbols {
    const out: ChannelSymbols = new Map();
    for (const [channel, counts] of this.refs) for (const symbol of counts.keys()) add(out, channel, symbol);
    return out;
  }

  /** How many clients hold (channel, symbol). */
  refCount(channel: string, symbol: string): number {
    return this.refs.get(channel)?.get(symbol) ?? 0;
  }

  /** What Alpaca's last ack said the session has. */
  get upstreamSet(): ReadonlyMap<string, readonly string[]> {
    return this.lastUpstreamAck;
  }

  /** True while a change waits for Alpaca's answer. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /** What the change in flight is: a client's request, a released client, or the resubscription after a reconnect. */
  get inFlightKind(): 'client' | 'release' | 'resync' | undefined {
    return this.inFlight?.op.kind;
  }

  /** Per client, what is routed to it now: committed minus muted; gone clients get nothing. */
  routingTable(): RoutingTable {
    if (this.routing) return this.routing;
    const table = new Map<ClientId, ChannelSymbols>();
    for (const [id, entry] of this.clients) {
      if (entry.gone) continue;
      const view: ChannelSymbols = new Map();
      for (const [channel, symbols] of entry.committed) {
        const muted = entry.muted.get(channel);
        for (const symbol of symbols) if (!muted?.has(symbol)) add(view, channel, symbol);
      }
      table.set(id, view);
    }
    this.routing = table;
    return table;
  }

  // ---- upstream ----

  /** The upstream session is authenticated (true) or gone (false). Gone: whatever was in flight is retried later. */
  setUpstreamReady(ready: boolean): void {
    if (ready === this.upstreamReady) return;
    this.upstreamReady = ready;
    if (!ready) {
      // The session died with a change in flight: we cannot know whether Alpaca applied it, but the new session
      // starts empty anyway. Put it back at the head so it is recomputed against the committed state.
      if (this.inFlight) {
        if (this.inFlight.op.kind !== 'resync') this.queue.unshift(this.inFlight.op);
        this.inFlight = undefined;
      }
      this.lastUpstreamAck = new Map();
      // A resync already waiting in the queue is superseded by the one added on the next ready.
      for (let k = this.queue.length - 1; k >= 0; k--)
        if (this.queue[k]!.kind === 'resync') this.queue.splice(k, 1);
      return;
    }
    // Fresh session: subscribe the whole union first, then carry on with the queue.
    this.queue.unshift({ kind: 'resync' });
    this.pump();
  }

  /** Alpaca acknowledged the change in flight; `set` is its full current set. */
  upstreamAcked(set: ReadonlyMap<string, readonly string[]>): void {
    this.lastUpstreamAck = set;
    const flight = this.inFlight;
    if (!flight) return; // an unsolicited ack (or one for a change already abandoned): nothing to complete
    this.inFlight = undefined;
    this.commit(flight.op, flight.action, flight.changed, flight.delta);
    this.pump();
  }

  /**
   * Alpaca answered with an error. Returns true if it was the answer to the change in flight (which is then
   * dropped: the union and the client's set stay as they were, and only that client hears about it).
   */
  upstreamRejected(code: number, msg: string): boolean {
    const flight = this.inFlight;
    if (!flight || !REQUEST_ERRORS.has(code)) return false;
    this.inFlight = undefined;
    this.stats.rejectedRequests++;
    if (flight.op.kind === 'client') {
      this.unmute(flight.op.clientId, flight.op.request);
      this.sink.requestRejected(flight.op.clientId, code, msg, flight.op.request);
    }
    this.pump();
    return true;
  }

  // ---- internals ----

  private routingDirty(): void {
    this.routing = undefined;
    this.sink.routingChanged();
  }

  private unmute(clientId: ClientId, request: SubscriptionRequest): void {
    const entry = this.clients.get(clientId);
    if (!entry || request.action !== 'unsubscribe') return;
    for (const [channel, symbols] of request.channels)
      for (const s of symbols) remove(entry.muted, channel, s);
    this.routingDirty();
  }

  private pump(): void {
    while (!this.inFlight && this.upstreamReady && this.queue.length > 0) {
      const op = this.queue.shift()!;
      this.start(op);
    }
  }

  /** Works out the union's change for `op`; sends it, or completes at once when the union does not change. */
  private start(op: Op): void {
    if (op.kind === 'resync') {
      const union = this.union();
      if (isEmpty(union)) return;
      this.inFlight = { op, action: 'subscribe', delta: union, changed: new Map() };
      this.stats.upstreamRequests++;
      this.sink.sendUpstream('subscribe', union);
      return;
    }
    const entry = this.clients.get(op.clientId);
    if (!entry) return;
    let action: SubscriptionAction;
    const changed: ChannelSymbols = new Map();
    const delta: ChannelSymbols = new Map();
    if (op.kind === 'release') {
      action = 'unsubscribe';
      for (const [channel, symbols] of entry.committed) {
        for (const symbol of symbols) {
          add(changed, channel, symbol);
          if (this.refCount(channel, symbol) === 1) add(delta, channel, symbol);
        }
      }
    } else {
      if (entry.gone) return; // requests queued by a client that has since gone: nobody to answer
      action = op.request.action;
      for (const [channel, symbols] of op.request.channels) {
        for (const symbol of symbols) {
          const held = has(entry.committed, channel, symbol);
          if (action === 'subscribe' ? held : !held) continue;
          if (has(changed, channel, symbol)) continue;
          add(changed, channel, symbol);
          const refs = this.refCount(channel, symbol);
          if (action === 'subscribe' ? refs === 0 : refs === 1) add(delta, channel, symbol);
        }
      }
    }
    if (isEmpty(delta)) {
      if (op.kind === 'client') this.stats.localRequests++;
      this.commit(op, action, changed, delta);
      return;
    }
    this.inFlight = { op, action, delta, changed };
    this.stats.upstreamRequests++;
    this.sink.sendUpstream(action, delta);
  }

  private commit(op: Op, action: SubscriptionAction, changed: ChannelSymbols, delta: ChannelSymbols): void {
    if (op.kind === 'resync') return;
    const entry = this.clients.get(op.clientId);
    if (!entry) return;
    for (const [channel, symbols] of changed) {
      for (const symbol of symbols) {
        if (action === 'subscribe') {
          add(entry.committed, channel, symbol);
          this.bump(channel, symbol, 1);
        } else {
          remove(entry.committed, channel, symbol);
          remove(entry.muted, channel, symbol);
          this.bump(channel, symbol, -1);
        }
      }
    }
    if (op.kind === 'release') {
      this.clients.delete(op.clientId);
      return;
    }
    if (op.request.action === 'unsubscribe') {
      // Keys named in the request that the client did not hold were never muted-in; clear any leftovers.
      for (const [channel, symbols] of op.request.channels)
        for (const s of symbols) remove(entry.muted, channel, s);
    }
    this.routingDirty();
    this.sink.requestCompleted({
      clientId: op.clientId,
      request: op.request,
      changed,
      upstreamChanged: delta,
    });
  }

  private bump(channel: string, symbol: string, by: 1 | -1): void {
    let counts = this.refs.get(channel);
    if (!counts) {
      counts = new Map();
      this.refs.set(channel, counts);
    }
    const next = (counts.get(symbol) ?? 0) + by;
    if (next <= 0) {
      counts.delete(symbol);
      if (counts.size === 0) this.refs.delete(channel);
    } else {
      counts.set(symbol, next);
    }
  }
}

/** Alpaca errors that answer a subscription change (and so belong to the change in flight). */
const REQUEST_ERRORS = new Set([400, 405, 410, 413]);
