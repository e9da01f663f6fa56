// Issue 14 (found by the chaos suite, seeds 424242 and 224962560): while the upstream was down and being redialled,
// the daemon still answered a subscribe to a symbol already in the union from the dead session's state, at once,
// with a replay of the latest item it had seen before the drop. An SDK resubscribing after the drop (the endpoint
// closes it with 1012) had that item already: a duplicate; and its ack promised data the upstream did not have
// yet. Now a change made during an outage waits for the new session's resubscription, and a late joiner's replay
// comes from the new session. Real processes: the daemon (its CLI with this package's adapter), two AlpacaStream
// strategies, the mock as Alpaca refusing the redial's upgrade (429) for a while.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { until } from './daemon-role.js';
import {
  adapterEntry,
  daemonReady,
  exited,
  type Line,
  spawnDaemon,
  spawnStrategy,
  stopChild,
} from './e2e-processes.js';

let mock: AlpacaMock;
let runtimeDir: string;
const namespace = `alpaca-outage-${process.pid}`;
const children: ChildProcess[] = [];
let daemon: ChildProcess;

beforeAll(async () => {
  mock = await startAlpacaMock({ rate: 20 });
  runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-alpaca-outage-'));
  daemon = spawnDaemon([
    ...['--runtime-dir', runtimeDir, '--namespace', namespace, '--adapter', adapterEntry],
    ...['--linger', '60000', '--log-level', 'info', '--ring-size', '4194304'],
    ...['--reconnect-initial', '100', '--reconnect-max', '800'],
  ]);
  children.push(daemon);
  await daemonReady(daemon);
});

afterAll(async () => {
  for (const child of children) if (child !== daemon) child.kill('SIGKILL');
  if (daemon) await stopChild(daemon);
  await Promise.all(children.map(exited));
  await mock?.close();
  rmSync(runtimeDir, { recursive: true, force: true });
});

const dataKey = (l: Line) => {
  const m = l.data as Record<string, unknown>;
  return `${String(m.T)}|${String(m.S)}|${String(m.t)}|${String(m.i)}`;
};

it('a subscribe during an upstream outage waits for the new session: no ack from the dead one, no stale replay', {
  timeout: 90_000,
}, async () => {
  const first = spawnStrategy({
    mockUrl: mock.url,
    path: 'v2/iex',
    runtimeDir,
    namespace,
    set: { trades: ['AAPL'] },
  });
  children.push(first.child);
  await until(() => first.lines.some((l) => 'ack' in l), 'the first ack', 20_000);
  await until(() => first.lines.filter((l) => 'data' in l).length >= 3, 'data', 10_000);

  // The upstream drops and its redial meets 429 for 4 s: an outage the daemon knows about.
  mock.refuseUpgrades(4_000);
  mock.drop({ endpoint: 'v2/iex' });
  await until(
    () => first.lines.some((l) => l.event === 'reconnecting'),
    'the first to hear reconnecting',
    10_000,
  );
  const seenBeforeDrop = new Set(first.lines.filter((l) => 'data' in l).map(dataKey));

  // A second strategy subscribes to a symbol the union already has, while the upstream is down.
  const second = spawnStrategy({
    mockUrl: mock.url,
    path: 'v2/iex',
    runtimeDir,
    namespace,
    set: { trades: ['AAPL'] },
  });
  children.push(second.child);
  await until(() => second.lines.some((l) => 'ack' in l || 'rejected' in l), 'the second answer', 30_000);
  const answeredAt = first.lines.length;
  // The answer came only once the new session was resubscribed: the first strategy had heard `reconnected` by then.
  expect(first.lines.some((l) => l.event === 'reconnected')).toBe(true);
  expect(second.lines.find((l) => 'ack' in l || 'rejected' in l)).toMatchObject({
    ack: { trades: ['AAPL'] },
  });

  // Fresh data for both; nothing the second one got is an item from before the drop (a stale "latest").
  await until(() => second.lines.filter((l) => 'data' in l).length >= 3, 'data for the second', 10_000);
  await until(() => first.lines.length > answeredAt, 'more for the first', 10_000);
  const stale = second.lines.filter((l) => 'data' in l && seenBeforeDrop.has(dataKey(l)));
  expect(stale).toEqual([]);
  expect(mock.sessions({ endpoint: 'v2/iex', open: true, authenticated: true })).toHaveLength(1);
});
