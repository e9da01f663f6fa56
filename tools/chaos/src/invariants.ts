/**
 * The invariants, as pure functions of what the run recorded (strategy lives, the daemon's status, the mock's
 * sessions and ledger). Each returns violations; the run reports the earliest.
 */
import type { MockSession } from '@wsproxy/alpaca-mock';
import type { DaemonStatus } from '@wsproxy/protocol';
import { daemonClientSets, endpointClientId } from './daemon.js';
import type { Life } from './fleet.js';
import { type ChannelSet, describeSet, has, isEmpty, sameSet, toChannelSet, union } from './subscriptions.js';
import type { SentItem } from './upstream-ledger.js';

export interface Violation {
  /** When it happened (an item's send time, a settle deadline). */
  readonly at: number;
  readonly invariant: string;
  readonly detail: string;
}

/** Timing slack around an ack or a window edge: IPC, the event loop and a loaded machine. */
export const SLACK_MS = 500;
/** An item sent less than this before the final collection may still be on its way, and is not judged. */
export const IN_FLIGHT_MS = 2000;

/** One live strategy as seen at a settle point: its life, its answer to `report`, how the daemon knows it. */
export interface Observed {
  readonly life: Life;
  readonly view: ChannelSet | undefined;
  readonly clientId: number | undefined;
  readonly localPort: number | undefined;
}

export interface Agreement {
  readonly discrepancies: string[];
  /** False when the status report has no per-client sets (the check could not run). */
  readonly daemonSetsChecked: boolean;
}

/**
 * After a fault settles: no strategy is still told it may lose data; each strategy's view == the daemon's set for
 * it; the upstream's subscription (the mock's record of its ONE session) == the union of live strategies' views.
 */
export function checkAgreement(
  observed: readonly Observed[],
  status: DaemonStatus | undefined,
  upstreamSessions: readonly MockSession[],
): Agreement {
  const out: string[] = [];
  for (const o of observed) {
    const open = o.life.openWindow;
    if (open) out.push(`${o.life.name} is still in a loss window since ${iso(open.from)} (${open.why})`);
    if (!o.view) out.push(`${o.life.name} did not answer a view report`);
  }
  if (!status) {
    out.push('the daemon does not answer status');
    return { discrepancies: out, daemonSetsChecked: false };
  }
  const sets = daemonClientSets(status);
  if (sets) {
    for (const o of observed) {
      const id =
        o.clientId ?? (o.localPort === undefined ? undefined : endpointClientId(status, o.localPort));
      if (id === undefined) {
        out.push(`${o.life.name} is not a client of the daemon`);
        continue;
      }
      const daemonSet = sets.get(id) ?? toChannelSet({});
      if (o.view && !sameSet(o.view, daemonSet)) {
        out.push(
          `${o.life.name} (client ${id}) sees ${describeSet(o.view)} but the daemon holds ${describeSet(daemonSet)}`,
        );
      }
    }
  }
  const wanted = union(observed.flatMap((o) => (o.view ? [o.view] : [])));
  if (upstreamSessions.length > 1) {
    out.push(
      `the upstream has ${upstreamSessions.length} authenticated sessions (ids ${upstreamSessions.map((s) => s.id).join(',')})`,
    );
  }
  const session = upstreamSessions[0];
  if (!session) {
    if (!isEmpty(wanted))
      out.push(`no authenticated upstream session, but the live strategies want ${describeSet(wanted)}`);
  } else {
    const upstream = toChannelSet(session.subscriptions());
    if (!sameSet(upstream, wanted)) {
      out.push(
        `the upstream (session ${session.id}) holds ${describeSet(upstream)} but the live strategies' union is ${describeSet(wanted)}`,
      );
    }
  }
  return { discrepancies: out, daemonSetsChecked: sets !== undefined };
}

/**
 * Nothing lost silently, nothing foreign, nothing duplicated, for one life:
 * - every item the upstream sent while the life's view held its (channel, symbol) — from SLACK after the ack to
 *   SLACK before the change — arrived, unless it was sent inside a window the life was told about (reconnecting,
 *   closed, starting) or before a gap it was told about;
 * - every item it got was sent by the upstream, for a (channel, symbol) its view held at some point between the
 *   send and the receipt (+ SLACK: data may overtake the ack by a little);
 * - no item arrived twice, except a late joiner's replay right after it (re)subscribed.
 */
export function checkData(
  life: Life,
  sent: readonly SentItem[],
  sentByKey: Map<string, SentItem>,
  judgedUntil: number,
): Violation[] {
  const out: Violation[] = [];
  const end = Math.min(life.endedAt ?? judgedUntil, judgedUntil);
  // Inside a window it was told about (reconnecting..reconnected, closed..resubscribed, starting), loss is announced.
  const windows = life.windows.map((w) => ({
    from: w.from - SLACK_MS,
    to: (w.to ?? Number.POSITIVE_INFINITY) + SLACK_MS,
  }));
  // Announcements: a window opening or a gap. Data stays in order on its way (one upstream, one ring or socket), so
  // an item that never came is covered by the next announcement unless something sent after it arrived first:
  // that is a hole nobody was told about. (A drop or a slow-client close is told after the data it took was sent.)
  const announcements = [...life.windows.map((w) => w.from), ...life.gaps.map((g) => g.at)].sort(
    (a, b) => a - b,
  );
  const arrivalsBySend: [sentAt: number, arrivedAt: number][] = [];
  for (const [key, times] of life.received) {
    const sentItem = sentByKey.get(key);
    if (sentItem) arrivalsBySend.push([sentItem.at, times[0] as number]);
  }
  arrivalsBySend.sort((a, b) => a[0] - b[0]);
  // Earliest arrival among items sent at or after index k (suffix minimum), found by binary search on send time.
  const earliestFrom = new Array<number>(arrivalsBySend.length + 1).fill(Number.POSITIVE_INFINITY);
  for (let k = arrivalsBySend.length - 1; k >= 0; k--) {
    earliestFrom[k] = Math.min(earliestFrom[k + 1] as number, (arrivalsBySend[k] as [number, number])[1]);
  }
  const firstArrivalSentAfter = (at: number): number | undefined => {
    let lo = 0;
    let hi = arrivalsBySend.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((arrivalsBySend[mid] as [number, number])[0] > at) hi = mid;
      else lo = mid + 1;
    }
    const first = earliestFrom[lo] as number;
    return Number.isFinite(first) ? first : undefined;
  };
  const silentlyLost = (at: number): boolean => {
    if (windows.some((w) => at >= w.from && at <= w.to)) return false;
    const told = announcements.find((a) => a >= at - SLACK_MS);
    const later = firstArrivalSentAfter(at);
    if (later === undefined) return told === undefined;
    return told === undefined || later < told;
  };
  const heldThroughout = (item: SentItem, from: number, to: number) => {
    if (!has(life.viewAt(from), item.channel, item.symbol)) return false;
    return life.views.every((v) => v.at <= from || v.at > to || has(v.set, item.channel, item.symbol));
  };
  const heldSometime = (channel: SentItem['channel'], symbol: string, from: number, to: number) =>
    has(life.viewAt(from), channel, symbol) ||
    life.views.some((v) => v.at > from && v.at <= to && has(v.set, channel, symbol));

  for (const item of sent) {
    if (item.at < life.startedAt || item.at > end - IN_FLIGHT_MS) continue;
    if (life.received.has(item.key)) continue;
    if (!heldThroughout(item, item.at - SLACK_MS, item.at + SLACK_MS)) continue;
    if (!silentlyLost(item.at)) continue;
    out.push({
      at: item.at,
      invariant: 'nothing lost silently',
      detail: `${life.name} (pid ${life.pid}) never got ${item.key} (upstream session ${item.session}, sent ${iso(item.at)}) though its view held ${item.channel}:${item.symbol} and it was told of no reconnect or gap then; its events around then: ${around(life, item.at)}`,
    });
  }
  // A late joiner's replay: right after the strategy (re)joined the symbol (an ack, or its recovery), the latest
  // item the upstream had sent for it before then. Anything else arriving twice is a duplicate.
  const joins = [
    ...life.views.map((v) => v.at),
    ...life.windows.flatMap((w) => (w.to === undefined ? [] : [w.to])),
  ];
  const sentFor = new Map<string, number[]>();
  for (const s of sent) {
    const k = `${s.channel}\0${s.symbol}`;
    const list = sentFor.get(k);
    if (list) list.push(s.at);
    else sentFor.set(k, [s.at]);
  }
  const isReplay = (item: SentItem, again: number): boolean =>
    joins.some((joined) => {
      if (Math.abs(joined - again) > 2 * SLACK_MS) return false;
      const times = sentFor.get(`${item.channel}\0${item.symbol}`) ?? [];
      return !times.some((t) => t > item.at && t < joined - SLACK_MS);
    });
  for (const [key, times] of life.received) {
    const item = sentByKey.get(key);
    const first = times[0] as number;
    if (!item) {
      out.push({
        at: first,
        invariant: 'nothing foreign',
        detail: `${life.name} got ${key}, which the upstream never sent`,
      });
      continue;
    }
    if (!heldSometime(item.channel, item.symbol, item.at - SLACK_MS, first + 2 * SLACK_MS)) {
      out.push({
        at: first,
        invariant: 'nothing foreign',
        detail: `${life.name} (pid ${life.pid}) got ${key} at ${iso(first)} (sent ${iso(item.at)}), but its view never held ${item.channel}:${item.symbol} then (view: ${describeSet(life.viewAt(first))})`,
      });
    }
    for (const again of times.slice(1)) {
      if (isReplay(item, again)) continue;
      out.push({
        at: again,
        invariant: 'nothing duplicated',
        detail: `${life.name} (pid ${life.pid}) got ${key} again at ${iso(again)} (first at ${iso(first)})`,
      });
    }
  }
  return out;
}

/** The strategy's events, windows and gaps within 5 s of a moment, for a violation's detail. */
function around(life: Life, at: number): string {
  const near = (t: number) => Math.abs(t - at) <= 5000;
  const lines = [
    ...life.events
      .filter((e) => near(e.at))
      .map((e) => `${iso(e.at)} ${e.name} ${JSON.stringify(e.detail).slice(0, 160)}`),
    ...life.windows.filter((w) => near(w.from)).map((w) => `${iso(w.from)} window ${w.why}`),
    ...life.gaps.filter((g) => near(g.at)).map((g) => `${iso(g.at)} gap ${JSON.stringify(g.info)}`),
  ].sort();
  return lines.length > 0 ? lines.join('; ') : 'none';
}

export function iso(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}
