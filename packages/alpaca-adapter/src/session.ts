// One shared Alpaca market-data session, as the daemon sees it: upstream frames in, client messages in, records
// out. It owns no socket and does no I/O (except through an optional snapshot source), so the daemon decides how
// bytes move and tests can drive it with real frames directly.
//
// Flow: the session authenticates upstream with the owner's credentials, answers each strategy's own auth locally,
// funnels (un)subscribe requests through the SubscriptionBook (one upstream change in flight), answers each client
// with an ack of its own set, and routes every data item only to the clients that want it.

import { encodeAlpacaMsgpack } from './alpaca-msgpack.js';
import { type AlpacaCredentials, CredentialCheck, credentialsFromAuthMessage } from './auth.js';
import { ALPACA_ERROR_MESSAGES, type MalformedFrameError, UpstreamError } from './errors.js';
import { type Encoding, FEED_PROFILES, type FeedKind, type FeedProfile, isCryptoKind } from './feeds.js';
import { asBuffer } from './frame-items.js';
import { LatestCache } from './latest-cache.js';
import { stringifyAlpacaJson } from './lossless-json.js';
import { writeMsgpackArrayHeader } from './msgpack-items.js';
import { AlpacaRouter, type ClientId, type RoutedRecord } from './router.js';
import type { SnapshotSource, SymbolSnapshot } from './snapshot.js';
import {
  type ChannelSymbols,
  type CommittedChange,
  type SubscriptionAction,
  SubscriptionBook,
  type SubscriptionRequest,
} from './subscription-book.js';
import { parseSubscriptionRequest } from './subscription-request.js';
import { decodeRaw, encodeFrame, looksLikeJson } from './wire.js';

/** Where the session's output goes. The daemon implements it over its sockets and shared-memory ring. */
export interface SessionOutput {
  /** Bytes for these clients (one ring record with a recipient set). `isBinary`: msgpack / binary frame. */
  deliver(recipients: readonly ClientId[], bytes: Uint8Array, isBinary: boolean): void;
  /** Bytes for the upstream WebSocket. */
  sendUpstream(bytes: Uint8Array, isBinary: boolean): void;
  /** Things the daemon should log, count or pass on as status events. Optional. */
  event?(event: SessionEvent): void;
}

export type SessionEvent =
  | { readonly type: 'upstream-authenticated' }
  /** Alpaca refused the session (402, 404, 406, 409, 411, ...): the daemon decides whether and when to retry. */
  | { readonly type: 'upstream-error'; readonly error: UpstreamError }
  /** 407: Alpaca is about to drop us for being slow. Already passed on to every client. */
  | { readonly type: 'slow-client-warning' }
  | { readonly type: 'resubscribed'; readonly union: ReadonlyMap<string, readonly string[]> }
  | { readonly type: 'malformed-upstream-frame'; readonly error: MalformedFrameError }
  /** Alpaca sent an item type this feed's profile does not know (reported once per type); it was forwarded. */
  | { readonly type: 'unknown-item-type'; readonly itemType: string }
  | { readonly type: 'snapshot-failed'; readonly clientId: ClientId; readonly error: unknown }
  /** Live data held while a client's snapshot was being fetched overflowed; the oldest frames were dropped. */
  | { readonly type: 'held-data-dropped'; readonly clientId: ClientId; readonly dropped: number };

export interface AlpacaSessionOptions {
  readonly feed: FeedKind;
  /** Upstream wire encoding. Default msgpack (what every official SDK uses; options accept nothing else). */
  readonly encoding?: Encoding;
  /** The connection owner's credentials: used upstream, and compared with each strategy's own auth. */
  readonly credentials: AlpacaCredentials;
  /**
   * 'message' (default): send `{"action":"auth",...}` after `connected`. 'headers': the daemon put the
   * credentials in the upgrade headers, so just wait for `authenticated`.
   */
  readonly upstreamAuth?: 'message' | 'headers';
  /** Replay the latest trade/quote/bar (and a synthetic order-book snapshot) to late joiners. Default true. */
  readonly replayLatest?: boolean;
  /** Source of initial state for `snapshot: true` requests when nothing is cached. */
  readonly snapshots?: SnapshotSource;
  /** Most frames held per client while its snapshot is fetched. Default 10 000. */
  readonly maxHeldFrames?: number;
}

export interface AttachOptions {
  /** The daemon already checked this client's credentials (it joined with the owner's). Default true. */
  readonly authenticated?: boolean;
  /** Send Alpaca's `[{"T":"success","msg":"connected"}]` greeting, as an SDK expects. Default true. */
  readonly greet?: boolean;
  /** Encoding of this client's control answers until it sends a message. Default: the upstream encoding. */
  readonly encoding?: Encoding;
}

interface ClientState {
  authenticated: boolean;
  /** Has it sent its own auth message yet? (a second one gets 403, like Alpaca) */
  sentAuth: boolean;
  encoding: Encoding;
}

interface Held {
  frames: RoutedRecord[];
  dropped: number;
}

export interface SessionStats {
  upstreamFrames: number;
  routedRecords: number;
  /** Data items (not control messages) delivered to at least one client. */
  routedItems: number;
  unroutedItems: number;
  /** Items of a type the feed profile does not know, forwarded to the clients of their symbol. */
  unknownTypeItems: number;
  malformedUpstreamFrames: number;
  malformedClientMessages: number;
  replayedItems: number;
}

export class AlpacaSession {
  readonly feed: FeedKind;
  readonly encoding: Encoding;
  readonly profile: FeedProfile;
  readonly book: SubscriptionBook;
  private readonly routing: AlpacaRouter;
  readonly cache: LatestCache;
  readonly stats: SessionStats = {
    upstreamFrames: 0,
    routedRecords: 0,
    routedItems: 0,
    unroutedItems: 0,
    unknownTypeItems: 0,
    malformedUpstreamFrames: 0,
    malformedClientMessages: 0,
    replayedItems: 0,
  };
  private readonly output: SessionOutput;
  private readonly options: AlpacaSessionOptions;
  private readonly check: CredentialCheck;
  private readonly clients = new Map<ClientId, ClientState>();
  private readonly held = new Map<ClientId, Held>();
  /** Callers waiting for the answer to a particular request (the daemon's subscribe()), by request identity. */
  private readonly answers = new Map<
    SubscriptionRequest,
    { readonly clientId: ClientId; readonly answer: (answer: RequestAnswer) => void }
  >();
  private upstreamAuthenticated = false;
  private greetings = 0;
  /** Ack keys in the order Alpaca's own ack used (falls back to the feed profile's). */
  private ackKeys: readonly string[];

  constructor(options: AlpacaSessionOptions, output: SessionOutput) {
    this.options = options;
    this.output = output;
    this.feed = options.feed;
    this.profile = FEED_PROFILES[options.feed];
    this.encoding = options.encoding ?? 'msgpack';
    this.ackKeys = this.profile.ackKeys;
    this.check = new CredentialCheck(options.credentials);
    this.routing = new AlpacaRouter({ feed: this.feed, encoding: this.encoding });
    this.cache = new LatestCache({ encoding: this.encoding, trackOrderBooks: isCryptoKind(this.feed) });
    this.book = new SubscriptionBook(this.profile, {
      sendUpstream: (action, channels) => this.sendSubscription(action, channels),
      requestCompleted: (change) => this.completed(change),
      requestRejected: (clientId, code, msg, request) => this.rejected(clientId, code, msg, request),
      // Only marked here: the index is rebuilt once, before the next frame is routed. A rebuild costs O(clients),
      // and 2,000 endpoint clients subscribing (or vanishing) at once change the table 2,000 times between two
      // frames: rebuilding on each change was O(clients²) and starved the event loop for seconds.
      routingChanged: () => {
        this.routingStale = true;
      },
    });
  }

  /** The book's routing table changed since the router's index was last built. */
  private routingStale = false;

  /** The router, its index brought up to date with the book first. */
  get router(): AlpacaRouter {
    if (this.routingStale) {
      this.routingStale = false;
      this.routing.setRoutingTable(this.book.routingTable());
    }
    return this.routing;
  }

  /** True once Alpaca has authenticated the shared session. */
  get ready(): boolean {
    return this.upstreamAuthenticated;
  }

  // ---- upstream side ----

  /**
   * The upstream WebSocket is open (first time or after a reconnect). Nothing to do: Alpaca's `connected`
   * greeting — which may arrive before the daemon gets round to calling this — is what starts authentication, and
   * a greeting on a session thought authenticated is itself the sign of a reconnect.
   */
  onUpstreamOpen(): void {}

  /** Number of `connected` greetings seen: one per upstream connection. */
  get connections(): number {
    return this.greetings;
  }

  /** One upstream frame. */
  onUpstreamMessage(bytes: Uint8Array, _isBinary: boolean): void {
    this.stats.upstreamFrames++;
    let result: ReturnType<AlpacaRouter['route']>;
    try {
      result = this.router.route(bytes);
    } catch (error) {
      this.stats.malformedUpstreamFrames++;
      this.output.event?.({ type: 'malformed-upstream-frame', error: error as MalformedFrameError });
      return;
    }
    const { records, items, controls, unrouted, unknownType, newUnknownTypes } = result;
    this.stats.unroutedItems += unrouted;
    this.stats.routedItems += items.count - controls.length - unrouted;
    this.stats.unknownTypeItems += unknownType;
    for (const itemType of newUnknownTypes) this.output.event?.({ type: 'unknown-item-type', itemType });
    if (this.options.replayLatest !== false && records.length > 0) this.cache.observe(asBuffer(bytes), items);
    this.deliverRecords(records);
    if (controls.length > 0) {
      // Decode the control items before anything can reuse `items` (handling may route replays).
      const buffer = asBuffer(bytes);
      const decoded = controls.map((k) => {
        try {
          return decodeRaw(buffer.subarray(items.start[k]!, items.end[k]!), this.encoding);
        } catch {
          return undefined;
        }
      });
      for (const message of decoded) if (message) this.handleControl(message as Record<string, unknown>);
    }
  }

  /** The upstream WebSocket closed. Everything in flight is retried after the next authentication. */
  onUpstreamClosed(): void {
    this.upstreamAuthenticated = false;
    this.book.setUpstreamReady(false);
    this.cache.clear();
  }

  private handleControl(message: Record<string, unknown>): void {
    const type = message.T;
    if (type === 'success') {
      if (message.msg === 'connected') {
        this.greetings++;
        // A greeting on a session we thought authenticated means a new connection: the old one is gone.
        if (this.upstreamAuthenticated) this.onUpstreamClosed();
        if (this.options.upstreamAuth !== 'headers') {
          const { keyId, secretKey } = this.options.credentials;
          this.sendUpstreamMessage({ action: 'auth', key: keyId, secret: secretKey });
        }
      } else if (message.msg === 'authenticated') {
        this.upstreamAuthenticated = true;
        this.output.event?.({ type: 'upstream-authenticated' });
        this.book.setUpstreamReady(true);
      }
      return;
    }
    if (type === 'subscription') {
      const set = new Map<string, readonly string[]>();
      const keys: string[] = [];
      for (const [key, value] of Object.entries(message)) {
        if (key === 'T') continue;
        keys.push(key);
        if (Array.isArray(value))
          set.set(
            key,
            value.filter((s): s is string => typeof s === 'string'),
          );
      }
      if (keys.length > 0) this.ackKeys = keys;
      const wasResync = this.book.inFlightKind === 'resync';
      this.book.upstreamAcked(set);
      if (wasResync) this.output.event?.({ type: 'resubscribed', union: set });
      return;
    }
    if (type === 'error') {
      const code = typeof message.code === 'number' ? message.code : 500;
      const msg = typeof message.msg === 'string' ? message.msg : (ALPACA_ERROR_MESSAGES[code] ?? 'error');
      if (this.book.upstreamRejected(code, msg)) return;
      if (code === 407) {
        this.output.event?.({ type: 'slow-client-warning' });
        this.broadcastError(code, msg);
        return;
      }
      this.output.event?.({ type: 'upstream-error', error: new UpstreamError(code, msg) });
      // Errors about the session itself concern everybody once it is running.
      if (this.upstreamAuthenticated) this.broadcastError(code, msg);
    }
  }

  private sendSubscription(action: SubscriptionAction, channels: ChannelSymbols): void {
    const message: Record<string, unknown> = { action };
    for (const channel of this.profile.channels) {
      const symbols = channels.get(channel);
      if (symbols && symbols.size > 0) message[channel] = [...symbols];
    }
    this.sendUpstreamMessage(message);
  }

  /** Alpaca expects single objects (not arrays) from clients. */
  private sendUpstreamMessage(message: Record<string, unknown>): void {
    if (this.encoding === 'json') this.output.sendUpstream(Buffer.from(JSON.stringify(message)), false);
    else {
      // encodeFrame wraps in an array; for a single message, strip the one-byte fixarray header.
      const framed = encodeFrame([message], 'msgpack');
      this.output.sendUpstream(framed.subarray(1), true);
    }
  }

  // ---- client side ----

  /** A client joined this upstream. */
  onClientAttached(clientId: ClientId, options: AttachOptions = {}): void {
    if (this.clients.has(clientId)) return;
    this.clients.set(clientId, {
      authenticated: options.authenticated ?? true,
      sentAuth: false,
      encoding: options.encoding ?? this.encoding,
    });
    this.book.attach(clientId);
    if (options.greet !== false) this.reply(clientId, [{ T: 'success', msg: 'connected' }]);
  }

  /** A message from a strategy: its own auth, subscribe or unsubscribe (JSON or msgpack). */
  onClientMessage(
    clientId: ClientId,
    bytes: Uint8Array | string,
    isBinary: boolean,
    answer?: (answer: RequestAnswer) => void,
  ): void {
    const state = this.clients.get(clientId);
    if (!state) {
      answer?.({ reply: encodeFrame([errorMessage(401)], this.encoding), upstreamChanged: false, ok: false });
      return;
    }
    let message: unknown;
    try {
      if (typeof bytes === 'string') {
        state.encoding = 'json';
        message = JSON.parse(bytes);
      } else if (!isBinary || looksLikeJson(bytes)) {
        state.encoding = 'json';
        message = decodeRaw(bytes, 'json');
      } else {
        state.encoding = 'msgpack';
        message = decodeRaw(bytes, 'msgpack');
      }
    } catch {
      this.stats.malformedClientMessages++;
      this.replyError(clientId, 400, undefined, answer);
      return;
    }
    // SDKs send single objects; accept an array of them too (an answer callback gets the first answer only).
    const messages = Array.isArray(message) ? message : [message];
    for (const m of messages) {
      this.handleClientMessage(clientId, state, m, answer);
      answer = undefined;
    }
  }

  private handleClientMessage(
    clientId: ClientId,
    state: ClientState,
    message: unknown,
    answer: ((answer: RequestAnswer) => void) | undefined,
  ): void {
    if (typeof message !== 'object' || message === null) {
      this.stats.malformedClientMessages++;
      this.replyError(clientId, 400, undefined, answer);
      return;
    }
    const credentials = credentialsFromAuthMessage(message);
    if (credentials !== undefined) {
      if (state.sentAuth) {
        this.replyError(clientId, 403, undefined, answer);
        return;
      }
      if (credentials === null || !this.check.matches(credentials)) {
        // Like Alpaca: after a failed auth the connection is not authenticated (subscribe gets 401).
        state.authenticated = false;
        this.replyError(clientId, 402, undefined, answer);
        return;
      }
      state.sentAuth = true;
      state.authenticated = true;
      this.reply(clientId, [{ T: 'success', msg: 'authenticated' }], answer);
      return;
    }
    const m = message as Record<string, unknown>;
    if (m.action !== 'subscribe' && m.action !== 'unsubscribe') {
      this.replyError(clientId, 400, undefined, answer);
      return;
    }
    if (!state.authenticated) {
      this.replyError(clientId, 401, undefined, answer);
      return;
    }
    if (this.profile.msgpackOnly && state.encoding === 'json') {
      this.replyError(clientId, 412, undefined, answer);
      return;
    }
    const parsed = parseSubscriptionRequest(m, this.profile);
    if (!parsed.ok) {
      this.stats.malformedClientMessages++;
      this.replyError(clientId, parsed.code, undefined, answer);
      return;
    }
    if (answer) this.answers.set(parsed.request, { clientId, answer });
    this.book.request(clientId, parsed.request);
  }

  /**
   * Makes the client's acknowledged set equal to `wanted` (an ack-shaped object: channel -> symbols, as its state
   * from before a daemon restart): what it holds beyond it is unsubscribed, then what it lacks is subscribed, each
   * through the book like any request, so the upstream changes only by what the union lacks or no longer needs.
   * `answer` gets the ack of the resulting set, or the error that stopped it (the set is then what was acknowledged).
   */
  restore(
    clientId: ClientId,
    wanted: Record<string, unknown>,
    answer: (answer: RequestAnswer) => void,
  ): void {
    if (!this.clients.has(clientId)) {
      answer({ reply: encodeFrame([errorMessage(401)], this.encoding), upstreamChanged: false, ok: false });
      return;
    }
    // Validated like a subscribe of the whole set (400 / 410 / 413 to this client alone); derived keys are skipped.
    const parsed = parseSubscriptionRequest({ ...wanted, action: 'subscribe' }, this.profile);
    if (!parsed.ok) {
      this.replyError(clientId, parsed.code, undefined, answer);
      return;
    }
    const held = this.book.setOf(clientId);
    const extra = new Map<string, string[]>();
    for (const [channel, symbols] of held) {
      const keep = new Set(parsed.request.channels.get(channel) ?? []);
      const drop = [...symbols].filter((symbol) => !keep.has(symbol));
      if (drop.length > 0) extra.set(channel, drop);
    }
    const missing = new Map<string, string[]>();
    for (const [channel, symbols] of parsed.request.channels) {
      const add = symbols.filter((symbol) => !held.get(channel)?.has(symbol));
      if (add.length > 0) missing.set(channel, add);
    }
    const steps: SubscriptionRequest[] = [];
    if (extra.size > 0) steps.push({ action: 'unsubscribe', channels: extra, snapshot: false });
    if (missing.size > 0) steps.push({ action: 'subscribe', channels: missing, snapshot: false });
    if (steps.length === 0) {
      this.reply(clientId, [this.ackFor(clientId)], answer);
      return;
    }
    let upstreamChanged = false;
    const step = (k: number): void => {
      const request = steps[k]!;
      this.answers.set(request, {
        clientId,
        answer: (result) => {
          upstreamChanged ||= result.upstreamChanged;
          if (result.ok && k + 1 < steps.length) step(k + 1);
          else answer({ ...result, upstreamChanged });
        },
      });
      this.book.request(clientId, request);
    };
    step(0);
  }

  /** The client disconnected or died: its subscriptions are released; what nobody wants goes upstream as unsubscribe. */
  onClientGone(clientId: ClientId): void {
    if (!this.clients.delete(clientId)) return;
    this.held.delete(clientId);
    // Requests it still had queued will never be answered by Alpaca: settle whoever waits for them.
    for (const [request, pending] of this.answers) {
      if (pending.clientId !== clientId) continue;
      this.answers.delete(request);
      pending.answer({
        reply: encodeFrame([errorMessage(500, 'client gone')], this.encoding),
        upstreamChanged: false,
        ok: false,
      });
    }
    this.book.release(clientId);
  }

  /** The client's current (acknowledged) set, channel -> symbols. */
  subscriptionsOf(clientId: ClientId): ReadonlyMap<string, ReadonlySet<string>> {
    return this.book.setOf(clientId);
  }

  // ---- answers ----

  private completed(change: CommittedChange): void {
    const answer = this.answers.get(change.request)?.answer;
    this.answers.delete(change.request);
    const state = this.clients.get(change.clientId);
    if (!state) return; // gone meanwhile
    this.reply(change.clientId, [this.ackFor(change.clientId)], answer, change.upstreamChanged.size > 0);
    if (change.request.action !== 'subscribe') {
      // Keys nobody wants any more: what we cached for them would go stale.
      for (const [channel, symbols] of change.upstreamChanged)
        for (const s of symbols) this.cache.forget(channel, s);
      return;
    }
    if (change.request.snapshot && this.options.snapshots && this.feed !== 'news') {
      this.startSnapshot(change);
    } else if (this.options.replayLatest !== false) {
      this.replayToLateJoiner(change);
    }
  }

  /** The ack Alpaca would send if this client were alone: ITS set, every key of the feed, in Alpaca's order. */
  ackFor(clientId: ClientId): Record<string, unknown> {
    const set = this.book.setOf(clientId);
    const ack: Record<string, unknown> = { T: 'subscription' };
    for (const key of this.ackKeys) {
      const source = this.profile.derived[key] ?? key;
      ack[key] = [...(set.get(source) ?? [])];
    }
    return ack;
  }

  /** Latest known items for keys the client joined without the union changing (Alpaca sends nothing then). */
  private replayToLateJoiner(change: CommittedChange): void {
    const raw: Buffer[] = [];
    const synthetic: Record<string, unknown>[] = [];
    for (const [channel, symbols] of change.changed) {
      const fresh = change.upstreamChanged.get(channel);
      for (const symbol of symbols) {
        if (symbol === '*' || fresh?.has(symbol)) continue;
        if (channel === 'orderbooks') {
          const book = this.cache.bookSnapshot(symbol);
          if (book) synthetic.push(book as unknown as Record<string, unknown>);
          continue;
        }
        const item = this.cache.latestItem(channel, symbol);
        if (item) raw.push(item);
      }
    }
    this.sendItems(change.clientId, raw, synthetic);
  }

  /**
   * `snapshot: true`: the client's live data is held while its initial state is gathered (cache first, REST for
   * the rest); then it gets the state, then the held data. Nothing is dropped silently.
   */
  private startSnapshot(change: CommittedChange): void {
    const clientId = change.clientId;
    const raw: Buffer[] = [];
    const synthetic: Record<string, unknown>[] = [];
    const missing = new Map<string, Set<string>>(); // symbol -> channels still needed
    for (const [channel, symbols] of change.changed) {
      for (const symbol of symbols) {
        if (symbol === '*') continue;
        if (channel === 'orderbooks') {
          const book = change.upstreamChanged.get(channel)?.has(symbol)
            ? undefined
            : this.cache.bookSnapshot(symbol);
          if (book) synthetic.push(book as unknown as Record<string, unknown>);
          continue;
        }
        if (channel !== 'trades' && channel !== 'quotes' && channel !== 'bars') continue;
        const item = this.cache.latestItem(channel, symbol);
        if (item) raw.push(item);
        else {
          let set = missing.get(symbol);
          if (!set) {
            set = new Set();
            missing.set(symbol, set);
          }
          set.add(channel);
        }
      }
    }
    if (missing.size === 0) {
      this.sendItems(clientId, raw, synthetic);
      return;
    }
    this.held.set(clientId, { frames: [], dropped: 0 });
    this.options.snapshots!.fetch([...missing.keys()]).then(
      (snapshots) => {
        for (const [symbol, channels] of missing) {
          const snap = snapshots.get(symbol);
          if (!snap) continue;
          for (const channel of channels) {
            const item = pickSnapshotItem(snap, channel);
            if (item) synthetic.push(item);
          }
        }
        this.releaseHeld(clientId, raw, synthetic);
      },
      (error: unknown) => {
        this.output.event?.({ type: 'snapshot-failed', clientId, error });
        this.releaseHeld(clientId, raw, synthetic);
      },
    );
  }

  private releaseHeld(clientId: ClientId, raw: Buffer[], synthetic: Record<string, unknown>[]): void {
    const held = this.held.get(clientId);
    if (!held || !this.clients.has(clientId)) return;
    this.held.delete(clientId);
    this.sendItems(clientId, raw, synthetic);
    if (held.dropped > 0) this.output.event?.({ type: 'held-data-dropped', clientId, dropped: held.dropped });
    for (const record of held.frames)
      this.output.deliver([clientId], record.bytes, this.encoding === 'msgpack');
  }

  /** One frame in the upstream encoding: raw cached items as they are, plus synthetic ones encoded. */
  private sendItems(clientId: ClientId, raw: Buffer[], synthetic: Record<string, unknown>[]): void {
    const count = raw.length + synthetic.length;
    if (count === 0) return;
    this.stats.replayedItems += count;
    const encoded = synthetic.map((m) => this.encodeItem(m));
    const parts = [...raw, ...encoded];
    let frame: Buffer;
    if (this.encoding === 'json') {
      frame = Buffer.concat([
        Buffer.from('['),
        ...parts.flatMap((p, k) => (k > 0 ? [COMMA, p] : [p])),
        CLOSE,
      ]);
    } else {
      const header = Buffer.allocUnsafe(5);
      const headerLength = writeMsgpackArrayHeader(header, 0, parts.length);
      frame = Buffer.concat([header.subarray(0, headerLength), ...parts]);
    }
    this.output.deliver([clientId], frame, this.encoding === 'msgpack');
  }

  private encodeItem(message: Record<string, unknown>): Buffer {
    if (this.encoding === 'json') return Buffer.from(stringifyAlpacaJson(message));
    // REST answers carry RFC-3339 strings; the msgpack stream carries timestamp extensions and fixed-width numbers.
    const framed = encodeAlpacaMsgpack([message], this.feed);
    // A frame of one: strip the one-byte fixarray header.
    return Buffer.from(framed.buffer, framed.byteOffset + 1, framed.byteLength - 1);
  }

  private deliverRecords(records: RoutedRecord[]): void {
    const isBinary = this.encoding === 'msgpack';
    for (const record of records) {
      let recipients = record.recipients;
      if (this.held.size > 0) recipients = this.holdBack(record, recipients);
      if (recipients.length === 0) continue;
      this.stats.routedRecords++;
      this.output.deliver(recipients, record.bytes, isBinary);
    }
  }

  /** Keeps records for clients whose snapshot is pending; returns the others. */
  private holdBack(record: RoutedRecord, recipients: readonly ClientId[]): readonly ClientId[] {
    const max = this.options.maxHeldFrames ?? 10_000;
    const others: ClientId[] = [];
    for (const id of recipients) {
      const held = this.held.get(id);
      if (!held) {
        others.push(id);
        continue;
      }
      held.frames.push(record);
      if (held.frames.length > max) {
        held.frames.shift();
        held.dropped++;
      }
    }
    return others;
  }

  /** Answers one client: through the request's answer callback if it has one, else as a frame to it. */
  private reply(
    clientId: ClientId,
    messages: readonly Record<string, unknown>[],
    answer?: (answer: RequestAnswer) => void,
    upstreamChanged = false,
  ): void {
    const state = this.clients.get(clientId);
    const encoding = state?.encoding ?? this.encoding;
    const bytes = encodeFrame(messages, encoding);
    if (answer) answer({ reply: bytes, upstreamChanged, ok: messages[0]?.T !== 'error' });
    else this.output.deliver([clientId], bytes, encoding === 'msgpack');
  }

  private replyError(
    clientId: ClientId,
    code: number,
    msg?: string,
    answer?: (answer: RequestAnswer) => void,
  ): void {
    this.reply(clientId, [errorMessage(code, msg)], answer);
  }

  private rejected(clientId: ClientId, code: number, msg: string, request?: SubscriptionRequest): void {
    const answer = request ? this.answers.get(request)?.answer : undefined;
    if (request) this.answers.delete(request);
    this.replyError(clientId, code, msg, answer);
  }

  private broadcastError(code: number, msg: string): void {
    for (const id of this.clients.keys()) this.replyError(id, code, msg);
  }
}

/** The answer to one client request, for callers that want it back rather than delivered. */
export interface RequestAnswer {
  /** Alpaca-shaped answer frame (ack, success or error), in the client's encoding. */
  readonly reply: Uint8Array;
  /** The request changed the union (something went upstream). */
  readonly upstreamChanged: boolean;
  /** False when the reply is an error. */
  readonly ok: boolean;
}

function errorMessage(code: number, msg?: string): Record<string, unknown> {
  return { T: 'error', code, msg: msg ?? ALPACA_ERROR_MESSAGES[code] ?? 'error' };
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

function pickSnapshotItem(snap: SymbolSnapshot, channel: string): Record<string, unknown> | undefined {
  if (channel === 'trades') return snap.trade;
  if (channel === 'quotes') return snap.quote;
  if (channel === 'bars') return snap.bar;
  return undefined;
}
