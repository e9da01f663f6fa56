// The session lease against a real 3-server NATS cluster, each contender its own process: exactly one holder,
// takeover after a kill -9 within the lease's expiry, and never two holders at once (the vendor's one-session rule).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NatsCluster, natsServerAvailable, startNatsCluster } from '../helpers/nats-cluster.js';

const CONTENDER = fileURLToPath(new URL('../fixtures/lease-contender.mjs', import.meta.url));
const TTL_MS = 2000;
const NAMESPACE = 'leasetest';

interface LeaseEvent {
  event: 'started' | 'acquired' | 'lost' | 'holder' | 'stopped';
  name: string;
  t: number;
  reason?: string;
  holder?: string | null;
}

interface Contender {
  readonly name: string;
  readonly child: ChildProcess;
  readonly events: LeaseEvent[];
  /** When it was killed (it holds nothing after that, whatever it last said). */
  killedAt?: number;
}

const running = new Set<Contender>();

function startContender(servers: string, key: string, name: string, pinned = false): Contender {
  const args = [CONTENDER, servers, NAMESPACE, key, name, String(TTL_MS), pinned ? 'pinned' : 'discover'];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const contender: Contender = { name, child, events: [] };
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line) contender.events.push(JSON.parse(line) as LeaseEvent);
  });
  running.add(contender);
  return contender;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function kill(contender: Contender, signal: NodeJS.Signals): Promise<void> {
  const { child } = contender;
  if (signal === 'SIGKILL') contender.killedAt = Date.now();
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
  running.delete(contender);
}

/** Each contender's holding intervals, from its own events (a kill ends one). */
function holdings(contender: Contender): Array<{ from: number; to: number }> {
  const out: Array<{ from: number; to: number }> = [];
  let from: number | undefined;
  for (const event of contender.events) {
    if (event.event === 'acquired') from = event.t;
    if ((event.event === 'lost' || event.event === 'stopped') && from !== undefined) {
      out.push({ from, to: event.t });
      from = undefined;
    }
  }
  if (from !== undefined) out.push({ from, to: contender.killedAt ?? Number.POSITIVE_INFINITY });
  return out;
}

function expectNoOverlap(contenders: readonly Contender[]): void {
  const intervals = contenders.flatMap((c) => holdings(c).map((h) => ({ ...h, name: c.name })));
  intervals.sort((a, b) => a.from - b.from);
  for (let i = 1; i < intervals.length; i++) {
    expect(
      intervals[i]!.from,
      `${intervals[i]!.name} took the lease while ${intervals[i - 1]!.name} held it`,
    ).toBeGreaterThanOrEqual(intervals[i - 1]!.to);
  }
}

const holderOf = (contenders: readonly Contender[]) =>
  contenders.filter((c) => holdings(c).some((h) => h.to === Number.POSITIVE_INFINITY));

describe.skipIf(!natsServerAvailable())('session lease over a 3-server NATS cluster', () => {
  let cluster: NatsCluster;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    await cluster.ready();
  }, 30_000);

  afterAll(async () => {
    for (const contender of [...running]) await kill(contender, 'SIGKILL');
    await cluster?.stop();
  });

  it('three contenders started at once: exactly one holds, and keeps holding across renewals', async () => {
    const key = randomUUID().replaceAll('-', '');
    const contenders = ['a', 'b', 'c'].map((name) => startContender(cluster.urls, key, name));
    await waitFor('all started', () =>
      contenders.every((c) => c.events.some((e) => e.event === 'started')) ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, TTL_MS * 2.5));
    expect(holderOf(contenders)).toHaveLength(1);
    const holder = holderOf(contenders)[0]!;
    // Nobody lost or took anything during 2.5 TTLs of renewals.
    expect(
      contenders.flatMap((c) => c.events.filter((e) => e.event === 'lost' || e.event === 'acquired')),
    ).toHaveLength(1);
    // The followers see who holds it.
    for (const follower of contenders.filter((c) => c !== holder)) {
      expect(follower.events.filter((e) => e.event === 'holder').at(-1)?.holder).toBe(holder.name);
    }
    for (const contender of contenders) await kill(contender, 'SIGTERM');
  });

  it('contenders joining while a holder lives never displace it', async () => {
    const key = randomUUID().replaceAll('-', '');
    const first = startContender(cluster.urls, key, 'first');
    await waitFor('first holds', () => holderOf([first])[0]);
    // Late joiners find the key taken; until the holder stops renewing, none of them may swap it.
    const late = ['l1', 'l2', 'l3', 'l4'].map((name) => startContender(cluster.urls, key, name));
    await waitFor('late joiners started', () =>
      late.every((c) => c.events.some((e) => e.event === 'started')) ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, TTL_MS * 2));
    expect(holderOf([first, ...late])).toEqual([first]);
    expect(first.events.filter((e) => e.event === 'lost')).toEqual([]);
    for (const contender of [first, ...late]) await kill(contender, 'SIGTERM');
  });

  it('kill -9 of the holder: another takes over within 5 s of the lease expiring, never overlapping', async () => {
    const runs = Number(process.env.WSPROXY_LEASE_RUNS ?? 3);
    const afterExpiry: number[] = [];
    const afterKill: number[] = [];
    for (let run = 0; run < runs; run++) {
      const key = randomUUID().replaceAll('-', '');
      const contenders = ['a', 'b', 'c'].map((name) => startContender(cluster.urls, key, `${name}${run}`));
      const holder = await waitFor('a holder', () => holderOf(contenders)[0]);
      // Every follower must have seen the live holder before the kill (a contender process slow to start under
      // load would otherwise first see the dead holder's record after the kill, and count its TTL from then).
      const others = contenders.filter((c) => c !== holder);
      await waitFor('followers see the holder', () =>
        others.every((c) => c.events.some((e) => e.event === 'holder' && e.holder === holder.name))
          ? true
          : undefined,
      );
      // Let a renewal or two pass.
      await new Promise((resolve) => setTimeout(resolve, TTL_MS));
      await kill(holder, 'SIGKILL');
      const killedAt = holder.killedAt!;
      const survivors = contenders.filter((c) => c !== holder);
      const next = await waitFor('a new holder', () => holderOf(survivors)[0], TTL_MS + 10_000);
      const acquiredAt = holdings(next).at(-1)!.from;
      // The lease expires TTL after the last renewal the follower saw (nobody renews it after the kill).
      const lastSeen = Math.max(
        ...next.events
          .filter((e) => e.event === 'holder' && e.holder === holder.name && e.t <= killedAt)
          .map((e) => e.t),
      );
      afterExpiry.push(acquiredAt - (lastSeen + TTL_MS));
      afterKill.push(acquiredAt - killedAt);
      const history = () => JSON.stringify(contenders.map((c) => c.events));
      expect(acquiredAt - (lastSeen + TTL_MS), history()).toBeLessThan(5000);
      expectNoOverlap(contenders);
      await new Promise((resolve) => setTimeout(resolve, TTL_MS / 2));
      expect(holderOf(survivors)).toHaveLength(1);
      for (const contender of survivors) await kill(contender, 'SIGTERM');
    }
    const summary = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      return `min ${sorted[0]} p50 ${at(0.5)} p90 ${at(0.9)} max ${sorted.at(-1)} ms`;
    };
    process.stdout.write(
      `lease takeover over ${runs} runs (TTL ${TTL_MS} ms): after expiry ${summary(afterExpiry)}; after kill -9 ${summary(afterKill)}\n`,
    );
  }, 600_000);

  it('clean stop hands the lease over at once, without waiting for the TTL', async () => {
    const key = randomUUID().replaceAll('-', '');
    const contenders = ['a', 'b'].map((name) => startContender(cluster.urls, key, name));
    const holder = await waitFor('a holder', () => holderOf(contenders)[0]);
    const follower = contenders.find((c) => c !== holder)!;
    await waitFor('follower started', () => follower.events.find((e) => e.event === 'started'));
    const stoppedAt = Date.now();
    await kill(holder, 'SIGTERM');
    const acquired = await waitFor('takeover', () => follower.events.find((e) => e.event === 'acquired'));
    expect(acquired.t - stoppedAt).toBeLessThan(TTL_MS);
    expectNoOverlap(contenders);
    await kill(follower, 'SIGTERM');
  });

  it("holder's NATS server dies: the holder redials another server; the session stays held, never by two", async () => {
    const key = randomUUID().replaceAll('-', '');
    const contenders = [0, 1].map((i) => startContender(cluster.nodes[i]!.url, key, `roam${i}`));
    const holder = await waitFor('a holder', () => holderOf(contenders)[0]);
    const index = contenders.indexOf(holder);
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    await cluster.nodes[index]!.kill();
    try {
      // Usually the holder reaches another server within its lease and keeps it. When the dead server led the
      // lease bucket's stream, nobody can write until JetStream elects a new leader (seconds): the holder must
      // step down meanwhile, and one daemon holds the session again after the election.
      await new Promise((resolve) => setTimeout(resolve, TTL_MS * 3));
      const settled = await waitFor('one holder again', () =>
        holderOf(contenders).length === 1 ? true : undefined,
      );
      expect(settled).toBe(true);
      expectNoOverlap(contenders);
      const kept = holderOf(contenders)[0] === holder && !holder.events.some((e) => e.event === 'lost');
      process.stdout.write(
        `NATS server of the holder killed: session ${kept ? 'kept by its holder' : 'failed over'}\n`,
      );
    } finally {
      for (const contender of contenders) await kill(contender, 'SIGKILL');
      await cluster.restart(index);
    }
  }, 60_000);

  it("holder's NATS server dies: the holder steps down before anyone else takes over", async () => {
    const key = randomUUID().replaceAll('-', '');
    // Each contender talks only to "its host's" NATS server, so killing that server cuts the holder off.
    const contenders = cluster.nodes
      .slice(0, 2)
      .map((node, i) => startContender(node.url, key, `host${i}`, true));
    const holder = await waitFor('a holder', () => holderOf(contenders)[0]);
    const index = contenders.indexOf(holder);
    const follower = contenders[1 - index]!;
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    await cluster.nodes[index]!.kill();
    try {
      const lost = await waitFor(
        'holder steps down',
        () => holder.events.find((e) => e.event === 'lost'),
        TTL_MS * 3,
      );
      expect(lost.reason).toBe('expired');
      const acquired = await waitFor(
        'takeover',
        () => follower.events.find((e) => e.event === 'acquired'),
        TTL_MS * 5,
      );
      // The one-session rule: the old holder had let go of the upstream before the new one could open it.
      expect(acquired.t).toBeGreaterThan(lost.t);
      expectNoOverlap(contenders);
    } finally {
      for (const contender of contenders) await kill(contender, 'SIGKILL');
      await cluster.restart(index);
    }
  }, 60_000);
});
