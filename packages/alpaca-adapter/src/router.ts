// Routes each data item of an upstream frame only to the clients subscribed to its (channel, symbol), keeping the
// item's bytes as Alpaca sent them. Consecutive items that go to the same set of clients form ONE output record
// (the daemon writes each record to the shared-memory ring once, tagged with its recipients), so every client sees
// Alpaca's order, and the common case — everybody concerned wants the whole frame — costs no copy at all.

import { type Encoding, FEED_PROFILES, type FeedKind } from './feeds.js';
import { asBuffer, FrameItems, isControlType } from './frame-items.js';
import { scanJsonItems } from './json-items.js';
import { msgpackArrayHeaderLength, scanMsgpackItems, writeMsgpackArrayHeader } from './msgpack-items.js';

/** How the daemon names a client. Opaque to the adapter; compared with `===`. */
export type ClientId = number | string;

/** Who subscribed to what, as the router sees it: per client, channel -> symbols (`*` included). */
export type RoutingTable = ReadonlyMap<ClientId, ReadonlyMap<string, ReadonlySet<string>>>;

/** An interned, immutable set of clients: runs of items are cut where the RecipientSet (by identity) changes. */
export class RecipientSet {
  constructor(
    readonly ids: readonly ClientId[],
    readonly key: string,
  ) {}
}

/** One output record: these bytes go to these clients. */
export interface RoutedRecord {
  readonly recipients: readonly ClientId[];
  readonly bytes: Uint8Array;
}

export interface RouteResult {
  /** Data records, one per run of consecutive items with the same recipients, in frame order. */
  readonly records: RoutedRecord[];
  /** The frame's items (spans and routing fields), valid until the next call to route(). */
  readonly items: FrameItems;
  /** Indices into `items` of control messages (success/error/subscription), for the session to handle. */
  readonly controls: number[];
  /** Data items that no client wanted (e.g. data still arriving after an unsubscribe). */
  readonly unrouted: number;
  /** Items of a type this feed's profile does not know, forwarded by symbol (see route()). */
  readonly unknownType: number;
  /** Unknown types seen for the first time in this frame (to log once); usually empty. */
  readonly newUnknownTypes: readonly string[];
}

export interface RouterOptions {
  /** Which feed the upstream is (decides type -> channel and news routing). */
  readonly feed: FeedKind;
  /** Upstream wire encoding. */
  readonly encoding: Encoding;
}

const NONE: readonly string[] = [];
const OPEN = 0x5b;
const CLOSE = 0x5d;

/**
 * The routing engine of one upstream. Pure: give it frames, get records. Call `setRoutingTable()` whenever any
 * client's routed set changes (subscribe acked, unsubscribe requested, client gone).
 */
export class AlpacaRouter {
  readonly feed: FeedKind;
  readonly encoding: Encoding;
  private readonly items = new FrameItems();
  private readonly typeToChannel: ReadonlyMap<string, string>;
  /** channel -> symbol -> recipients (explicit subscribers plus that channel's `*` subscribers). */
  private bySymbol = new Map<string, Map<string, RecipientSet>>();
  /** channel -> recipients of `*` alone, for symbols nobody named explicitly. */
  private byStar = new Map<string, RecipientSet>();
  private interned = new Map<string, RecipientSet>();
  private table: RoutingTable = new Map();

  constructor(options: RouterOptions) {
    this.feed = options.feed;
    this.encoding = options.encoding;
    this.typeToChannel = new Map(Object.entries(FEED_PROFILES[options.feed].channelOfType));
  }

  /** Rebuilds the recipient index. Subscriptions change rarely compared with data, so a full rebuild is fine. */
  setRoutingTable(table: RoutingTable): void {
    this.table = table;
    this.interned = new Map();
    const explicit = new Map<string, Map<string, ClientId[]>>();
    const stars = new Map<string, ClientId[]>();
    for (const [client, channels] of table) {
      for (const [channel, symbols] of channels) {
        for (const symbol of symbols) {
          if (symbol === '*') {
            let list = stars.get(channel);
            if (!list) {
              list = [];
              stars.set(channel, list);
            }
            list.push(client);
            continue;
          }
          let perChannel = explicit.get(channel);
          if (!perChannel) {
            perChannel = new Map();
            explicit.set(channel, perChannel);
          }
          let list = perChannel.get(symbol);
          if (!list) {
            list = [];
            perChannel.set(symbol, list);
          }
          list.push(client);
        }
      }
    }
    this.bySymbol = new Map();
    this.byStar = new Map();
    for (const [channel, list] of stars) this.byStar.set(channel, this.intern(list));
    for (const [channel, perChannel] of explicit) {
      const starIds = stars.get(channel) ?? [];
      const out = new Map<string, RecipientSet>();
      for (const [symbol, list] of perChannel) out.set(symbol, this.intern([...list, ...starIds]));
      this.bySymbol.set(channel, out);
    }
    // The hot path looks up by message type directly: one Map lookup fewer per item.
    this.indexAnyChannel(table);
    this.bySymbolOfType = new Map();
    this.byStarOfType = new Map();
    for (const [type, channel] of this.typeToChannel) {
      const perChannel = this.bySymbol.get(channel);
      const star = this.byStar.get(channel);
      if (perChannel) this.bySymbolOfType.set(type, perChannel);
      if (star) this.byStarOfType.set(type, star);
    }
  }

  private bySymbolOfType = new Map<string, Map<string, RecipientSet>>();
  private byStarOfType = new Map<string, RecipientSet>();
  /** Any channel: symbol -> clients that named it (plus `*` subscribers), for items of unknown types. */
  private anyBySymbol = new Map<string, RecipientSet>();
  /** Any channel: clients with `*` somewhere. */
  private anyStar: RecipientSet | undefined;
  /** Every client that subscribed to anything. */
  private anyone: RecipientSet | undefined;
  /** Unknown item types already reported. */
  private readonly unknownTypesSeen = new Set<string>();

  private indexAnyChannel(table: RoutingTable): void {
    const bySymbol = new Map<string, ClientId[]>();
    const stars: ClientId[] = [];
    const all: ClientId[] = [];
    for (const [client, channels] of table) {
      let any = false;
      for (const symbols of channels.values()) {
        for (const symbol of symbols) {
          any = true;
          if (symbol === '*') stars.push(client);
          else {
            const list = bySymbol.get(symbol);
            if (list) list.push(client);
            else bySymbol.set(symbol, [client]);
          }
        }
      }
      if (any) all.push(client);
    }
    this.anyStar = stars.length > 0 ? this.intern(stars) : undefined;
    this.anyone = all.length > 0 ? this.intern(all) : undefined;
    this.anyBySymbol = new Map();
    for (const [symbol, list] of bySymbol) this.anyBySymbol.set(symbol, this.intern([...list, ...stars]));
  }

  /**
   * An item of a type the feed profile cannot map to a channel (a type Alpaca added after this code was written):
   * nobody can have subscribed to it by name, so it goes to whoever subscribed to anything on its symbol (or on
   * any of a news-like item's `symbols`, or to `*` anywhere); an item with no symbol at all goes to every client
   * with a subscription. Better a message a client does not know than one that silently vanishes.
   */
  private recipientsOfUnknown(symbol: string, symbols: string[] | undefined): RecipientSet | undefined {
    if (symbol !== '') return this.anyBySymbol.get(symbol) ?? this.anyStar;
    if (symbols === undefined) return this.anyone;
    let ids: ClientId[] = this.anyStar ? [...this.anyStar.ids] : [];
    for (const s of symbols) {
      const set = this.anyBySymbol.get(s);
      if (set) ids = ids.concat(set.ids);
    }
    return ids.length === 0 ? undefined : this.intern(ids);
  }

  /** The current routing table (as last set). */
  get routingTable(): RoutingTable {
    return this.table;
  }

  /** Recipients of one (channel, symbol), `*` included. */
  recipientsOf(channel: string, symbol: string): readonly ClientId[] {
    return (this.bySymbol.get(channel)?.get(symbol) ?? this.byStar.get(channel))?.ids ?? [];
  }

  private intern(ids: ClientId[]): RecipientSet {
    const unique = [...new Set(ids)].sort(compareIds);
    const key = unique.join('\u0000');
    let set = this.interned.get(key);
    if (!set) {
      set = new RecipientSet(unique, key);
      this.interned.set(key, set);
    }
    return set;
  }

  private recipientsOfItem(
    type: string,
    symbol: string,
    symbols: string[] | undefined,
  ): RecipientSet | undefined {
    if (symbols === undefined || this.feed !== 'news') {
      return this.bySymbolOfType.get(type)?.get(symbol) ?? this.byStarOfType.get(type);
    }
    // News names several symbols: the union of their subscribers (and `*`).
    const perChannel = this.bySymbolOfType.get(type);
    const star = this.byStarOfType.get(type);
    let ids: ClientId[] = star ? [...star.ids] : [];
    for (const s of symbols) {
      const set = perChannel?.get(s);
      if (set) ids = ids.concat(set.ids);
    }
    return ids.length === 0 ? undefined : this.intern(ids);
  }

  /** Splits, routes and re-frames one upstream frame. Throws MalformedFrameError on a malformed frame. */
  route(frame: Uint8Array): RouteResult {
    const b = asBuffer(frame);
    const items = this.items;
    if (this.encoding === 'json') scanJsonItems(b, items);
    else scanMsgpackItems(b, items);

    // Runs of consecutive items with the same recipients become one record each. Consecutive items are one
    // contiguous byte range (separators included), so a run is copied in one go, and every client receives its
    // items in exactly the order Alpaca sent them.
    const { runSet, runFirst, runLast, runCount } = this;
    let runs = 0;
    let current: RecipientSet | undefined;
    const controls: number[] = [];
    let unrouted = 0;
    let unknownType = 0;
    let newUnknownTypes: string[] | undefined;
    for (let k = 0; k < items.count; k++) {
      const type = items.type[k]!;
      let set: RecipientSet | undefined;
      if (type.length > 1 && isControlType(type)) {
        controls.push(k);
      } else if (type !== '' && !this.typeToChannel.has(type)) {
        unknownType++;
        if (!this.unknownTypesSeen.has(type)) {
          this.unknownTypesSeen.add(type);
          newUnknownTypes = [...(newUnknownTypes ?? []), type];
        }
        set = this.recipientsOfUnknown(items.symbol[k]!, items.symbols[k]);
        if (set === undefined) unrouted++;
      } else {
        set = this.recipientsOfItem(type, items.symbol[k]!, items.symbols[k]);
        if (set !== undefined && set.ids.length === 0) set = undefined;
        if (set === undefined) unrouted++;
      }
      if (set === undefined) {
        current = undefined; // a gap breaks the run: its bytes must not be copied
        continue;
      }
      if (set === current) {
        runLast[runs - 1] = k;
        runCount[runs - 1]!++;
      } else {
        current = set;
        runSet[runs] = set;
        runFirst[runs] = k;
        runLast[runs] = k;
        runCount[runs] = 1;
        runs++;
      }
    }

    const records: RoutedRecord[] = [];
    if (runs === 1 && runCount[0] === items.count) {
      // Everybody concerned wants the whole frame: hand the upstream bytes over as they are.
      records.push({ recipients: runSet[0]!.ids, bytes: frame });
      runSet[0] = undefined;
      return { records, items, controls, unrouted, unknownType, newUnknownTypes: newUnknownTypes ?? NONE };
    }
    const json = this.encoding === 'json';
    const { start, end } = items;
    let total = 0;
    for (let r = 0; r < runs; r++) {
      total += end[runLast[r]!]! - start[runFirst[r]!]! + (json ? 2 : msgpackArrayHeaderLength(runCount[r]!));
    }
    // One allocation for all the runs' frames; each record is a view into it.
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (let r = 0; r < runs; r++) {
      const from = at;
      if (json) out[at++] = OPEN;
      else at += writeMsgpackArrayHeader(out, at, runCount[r]!);
      at = copyBytes(b, start[runFirst[r]!]!, end[runLast[r]!]!, out, at);
      if (json) out[at++] = CLOSE;
      // A plain Uint8Array view is cheaper to make than a Buffer view.
      records.push({
        recipients: runSet[r]!.ids,
        bytes: new Uint8Array(out.buffer, out.byteOffset + from, at - from),
      });
      runSet[r] = undefined; // do not keep sets alive past a table rebuild
    }
    return { records, items, controls, unrouted, unknownType, newUnknownTypes: newUnknownTypes ?? NONE };
  }

  private readonly runSet: (RecipientSet | undefined)[] = [];
  private readonly runFirst: number[] = [];
  private readonly runLast: number[] = [];
  private readonly runCount: number[] = [];
}

/** Copies b[from, to) into out at `at`. A typed-array set from a plain view measured fastest (vs copy() or a loop). */
function copyBytes(b: Buffer, from: number, to: number, out: Buffer, at: number): number {
  out.set(new Uint8Array(b.buffer, b.byteOffset + from, to - from), at);
  return at + to - from;
}

function compareIds(a: ClientId, b: ClientId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}
