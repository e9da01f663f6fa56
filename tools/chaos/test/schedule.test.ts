// The parts of the suite that must be exactly reproducible or exactly right without a run: the schedule drawn from a
// seed, and the invariant checks on recorded timelines (a lost, a foreign, a duplicated item; a disagreement).
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { drawSchedule, FAULT_KINDS } from '../src/faults.js';
import { Life } from '../src/fleet.js';
import { checkData, IN_FLIGHT_MS, SLACK_MS } from '../src/invariants.js';
import { SeededRandom } from '../src/random.js';
import { toChannelSet } from '../src/subscriptions.js';
import type { SentItem } from '../src/upstream-ledger.js';

const slots = { shm: [0, 1, 2], endpoint: [3, 4] };

describe('schedule', () => {
  it('is the same for the same seed and different for another', () => {
    const a = drawSchedule(new SeededRandom(42), slots, 150_000);
    const b = drawSchedule(new SeededRandom(42), slots, 150_000);
    const c = drawSchedule(new SeededRandom(43), slots, 150_000);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it('meets every fault kind once before any twice, and aims slow readers at endpoint strategies', () => {
    const schedule = drawSchedule(new SeededRandom(7), slots, 150_000);
    expect(schedule.length).toBeGreaterThanOrEqual(FAULT_KINDS.length);
    expect(new Set(schedule.slice(0, FAULT_KINDS.length).map((f) => f.kind)).size).toBe(FAULT_KINDS.length);
    for (const f of schedule.filter((f) => f.kind === 'slow-endpoint-reader'))
      expect([3, 4]).toContain(f.slot);
  });

  it('draws only the kinds asked for', () => {
    const schedule = drawSchedule(new SeededRandom(1), slots, 30_000, ['daemon-sigkill']);
    expect(schedule.every((f) => f.kind === 'daemon-sigkill')).toBe(true);
  });
});

describe('data invariant', () => {
  const t0 = 1_000_000;
  /** A life subscribed to trades:AAPL from t0 to t0 + 10 s (no process behind it: only the timeline is judged). */
  function life(): Life {
    const l = new Life('test', 'shm', { pid: 1 } as ChildProcess);
    (l as { startedAt: number }).startedAt = t0 - 1000;
    l.windows[0]!.to = t0 - 900;
    l.views.push({ at: t0, set: toChannelSet({ trades: ['AAPL'] }) });
    l.views.push({ at: t0 + 10_000, set: toChannelSet({}) });
    return l;
  }
  const item = (n: number, symbol = 'AAPL'): SentItem => ({
    key: `t|${symbol}|${n}|`,
    channel: 'trades',
    symbol,
    at: t0 + n,
    session: 1,
  });
  const judge = (l: Life, sent: SentItem[]) =>
    checkData(l, sent, new Map(sent.map((s) => [s.key, s])), t0 + 20_000 + IN_FLIGHT_MS).map(
      (v) => v.invariant,
    );

  it('passes when every item of the set arrived once', () => {
    const l = life();
    const sent = [item(1000), item(2000)];
    for (const s of sent) l.received.set(s.key, [s.at + 5]);
    expect(judge(l, sent)).toEqual([]);
  });

  it('finds an item lost without a window or gap, and excuses one lost inside a reconnect window', () => {
    const l = life();
    const sent = [item(1000), item(2000), item(3000), item(5000)];
    l.received.set(sent[0]!.key, [sent[0]!.at + 5]);
    l.received.set(sent[2]!.key, [sent[2]!.at + 5]);
    // Told at 4.9 s: what it had not got since its last arrival (3 s) is excused, the hole at 2 s is not.
    l.windows.push({ from: t0 + 4900, to: t0 + 5200, why: 'reconnecting' });
    expect(judge(l, sent)).toEqual(['nothing lost silently']);
  });

  it('finds a foreign item (a symbol the view never held) and a duplicate', () => {
    const l = life();
    const sent = [item(1000), item(2000, 'MSFT')];
    l.received.set(sent[0]!.key, [sent[0]!.at + 5, sent[0]!.at + 3000]);
    l.received.set(sent[1]!.key, [sent[1]!.at + 5]);
    expect(judge(l, sent).sort()).toEqual(['nothing duplicated', 'nothing foreign']);
  });

  it('excuses a late joiner replay (the latest item, again right after a rejoin) but not an older one', () => {
    const l = life();
    const sent = [item(1000), item(2000)];
    l.received.set(sent[0]!.key, [sent[0]!.at + 5, t0 + 6100]);
    l.received.set(sent[1]!.key, [sent[1]!.at + 5, t0 + 6100]);
    // Recovered (resubscribed) at 6 s: the latest AAPL trade (2 s) may come again, the one before it may not.
    l.windows.push({ from: t0 + 5500, to: t0 + 6000, why: 'closed 1012' });
    expect(judge(l, sent)).toEqual(['nothing duplicated']);
  });

  it('does not judge items sent within the slack of an ack', () => {
    const l = life();
    expect(judge(l, [item(SLACK_MS / 2)])).toEqual([]);
  });
});
