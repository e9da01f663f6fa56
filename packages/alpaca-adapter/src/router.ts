// Routes each data item of an upstream frame only to the clients subscribed to its (channel, symbol), keeping the
// item's bytes as Alpaca sent them. Items that go to exactly the same set of clients are gathered into ONE output
// record (the daemon writes each record to the shared-memory ring once, tagged with its recipients), so the
// common case — everybody wants the whole frame — costs no copy at all.

import { type Encoding, FEED_PROFILES, type FeedKind } from './feeds.js';
import { asBuffer, FrameItems, isControlType } from './frame-items.js';
import { scanJsonItems } from './json-items.js';
import { msgpackArrayHeaderLength, scanMsgpackItems, writeMsgpackArrayHeader } from './msgpack-items.js';

/** How the daemon names a client. Opaque to the adapter; compared with `===`. */
export type ClientId = number | string;

/** Who subscribed to what, as the router sees it: per client, channel -> symbols (`*` included). */
export type RoutingTable = ReadonlyMap<ClientId, ReadonlyMap<string, ReadonlySet<string>>>;

/** An interned, immutable set of clients. Items are grouped by identity of their RecipientSet. */
export class RecipientSet {
  /** Scratch fields for grouping within one frame (avoids a Map per frame). */
  frameMark = 0;
  groupIndex = 0;
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
  /** Data records, one per distinct recipient set, in order of first appearance in the frame. */
  readonly records: RoutedRecord[];
  /** The frame's items (spans and routing fields), valid until the next call to route(). */
  readonly items: FrameItems;
  /** Indices into `items` of control messages (success/error/subscription), for the session to handle. */
  readonly controls: number[];
  /** Data items that no client wanted (e.g. data still arriving after an unsubscribe). */
  readonly unrouted: number;
}

export interface RouterOptions {
  /** Which feed the upstream is (decides type -> channel and news routing). */
  readonly feed: FeedKind;
  /** Upstream wire encoding. */
  readonly encoding: Encoding;
}

const OPEN = 0x5b;
const CLOSE = 0x5d;
const COMMA = 0x2c;

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
  private frameCounter = 0;

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
    const channel = this.typeToChannel.get(type);
    if (channel === undefined) return undefined;
    if (symbols !== undefined && this.feed === 'news') {
      // News names several symbols: the union of their subscribers (and `*`).
      const perChannel = this.bySymbol.get(channel);
      const star = this.byStar.get(channel);
      let ids: ClientId[] = star ? [...star.ids] : [];
      for (const s of symbols) {
        const set = perChannel?.get(s);
        if (set) ids = ids.concat(set.ids);
      }
      return ids.length === 0 ? undefined : this.intern(ids);
    }
    return this.bySymbol.get(channel)?.get(symbol) ?? this.byStar.get(channel);
  }

  /** Splits, routes and re-frames one upstream frame. Throws MalformedFrameError on a malformed frame. */
  route(frame: Uint8Array): RouteResult {
    const b = asBuffer(frame);
    const items = this.items;
    if (this.encoding === 'json') scanJsonItems(b, items);
    else scanMsgpackItems(b, items);

    const mark = ++this.frameCounter;
    const groups: RecipientSet[] = [];
    const members: number[][] = [];
    const controls: number[] = [];
    let unrouted = 0;
    for (let k = 0; k < items.count; k++) {
      const type = items.type[k]!;
      if (type.length > 1 && isControlType(type)) {
        controls.push(k);
        continue;
      }
      const set = this.recipientsOfItem(type, items.symbol[k]!, items.symbols[k]);
      if (set === undefined || set.ids.length === 0) {
        unrouted++;
        continue;
      }
      if (set.frameMark !== mark) {
        set.frameMark = mark;
        set.groupIndex = groups.length;
        groups.push(set);
        members.push([k]);
      } else {
        members[set.groupIndex]!.push(k);
      }
    }

    const records: RoutedRecord[] = [];
    for (let g = 0; g < groups.length; g++) {
      const list = members[g]!;
      // Everybody in this group wants the whole frame: hand the upstream bytes over as they are.
      const bytes = list.length === items.count ? frame : this.reframe(b, list);
      records.push({ recipients: groups[g]!.ids, bytes });
    }
    return { records, items, controls, unrouted };
  }

  /** A new frame holding the given items of `b`, in order: `[a,b,c]` or a msgpack array. */
  reframe(b: Buffer, list: readonly number[]): Buffer {
    const { start, end } = this.items;
    let size = 0;
    for (const k of list) size += end[k]! - start[k]!;
    if (this.encoding === 'json') {
      const out = Buffer.allocUnsafe(size + list.length + 1);
      out[0] = OPEN;
      let at = 1;
      for (let j = 0; j < list.length; j++) {
        const k = list[j]!;
        if (j > 0) out[at++] = COMMA;
        at += b.copy(out, at, start[k]!, end[k]!);
      }
      out[at] = CLOSE;
      return out;
    }
    const out = Buffer.allocUnsafe(size + msgpackArrayHeaderLength(list.length));
    let at = writeMsgpackArrayHeader(out, 0, list.length);
    for (const k of list) at += b.copy(out, at, start[k]!, end[k]!);
    return out;
  }
}

function compareIds(a: ClientId, b: ClientId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}
