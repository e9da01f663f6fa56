// The conformance corpus (fixtures/corpus: real messages from Alpaca's docs and the official SDKs' tests) replayed
// through a real daemon, by a small upstream of this test's own (not the mock: nothing here was shaped by our own
// reading of the protocol), to an AlpacaStream process (shared memory) and to a JSON and a msgpack client of the
// drop-in endpoint at once. Each must get exactly the items its subscriptions select, and every value equal to
// the original: ids exact (bigint), timestamps to the nanosecond, prices as sent.
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decode,
  EXT_TIMESTAMP,
  ExtData,
  ExtensionCodec,
  encode,
  encodeTimeSpecToTimestamp,
} from '@msgpack/msgpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { parseJsonLossless } from '../src/lossless-json.js';
import { CORPUS } from './corpus.js';
import { until } from './daemon-role.js';
import {
  adapterEntry,
  daemonInfo,
  type Line,
  spawnDaemon,
  spawnStrategy,
  stopChild,
  wsproxyCli,
} from './e2e-processes.js';

const KEY = 'mock-key';
const SECRET = 'mock-secret';
const TIMESTAMPS = new Set(['t', 'r', 'created_at', 'updated_at', 'ft']);

type Item = Record<string, unknown>;

/** What a real Alpaca msgpack item looks like, built with the msgpack library alone: timestamps as extension -1. */
function toMsgpackItem(item: Item): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) {
    if (TIMESTAMPS.has(k) && typeof v === 'string') {
      const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(v)!;
      const sec = Date.parse(`${m[1]}Z`) / 1000;
      out[k] = new ExtData(
        EXT_TIMESTAMP,
        encodeTimeSpecToTimestamp({ sec, nsec: Number((m[2] ?? '').padEnd(9, '0')) }),
      );
    } else out[k] = v;
  }
  return out;
}

/** JSON text with bigints as their digits. */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `@@${v}@@` : v)).replace(
    /"@@(-?\d+)@@"/g,
    '$1',
  );
}

/** A tiny Alpaca: connected, auth, acks of the connection's full set; `replay()` sends a feed's corpus. */
class CorpusUpstream {
  readonly server: WebSocketServer;
  readonly sockets = new Map<string, { ws: WebSocket; msgpack: boolean; set: Map<string, Set<string>> }>();

  constructor() {
    this.server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    this.server.on('connection', (ws, req) => {
      const msgpack = (req.headers['content-type'] ?? '').includes('msgpack');
      const path = new URL(req.url ?? '/', 'ws://x').pathname;
      const state = { ws, msgpack, set: new Map<string, Set<string>>() };
      this.sockets.set(path, state);
      const send = (messages: Item[]) =>
        ws.send(msgpack ? encode(messages.map(toMsgpackItem), { useBigInt64: true }) : jsonText(messages));
      send([{ T: 'success', msg: 'connected' }]);
      ws.on('message', (data, isBinary) => {
        const m = (isBinary ? decode(data as Buffer) : JSON.parse(String(data))) as Record<string, unknown>;
        if (m.action === 'auth') {
          send([
            m.key === KEY && m.secret === SECRET
              ? { T: 'success', msg: 'authenticated' }
              : { T: 'error', code: 402, msg: 'auth failed' },
          ]);
        } else if (m.action === 'subscribe' || m.action === 'unsubscribe') {
          for (const [channel, symbols] of Object.entries(m)) {
            if (!Array.isArray(symbols)) continue;
            const now = state.set.get(channel) ?? new Set<string>();
            for (const s of symbols as string[]) m.action === 'subscribe' ? now.add(s) : now.delete(s);
            state.set.set(channel, now);
          }
          // A real ack may leave out the channels that are empty.
          send([
            {
              T: 'subscription',
              ...Object.fromEntries(
                [...state.set].filter(([, s]) => s.size > 0).map(([c, s]) => [c, [...s]]),
              ),
            },
          ]);
        }
      });
    });
  }

  get url(): string {
    const address = this.server.address() as { port: number };
    return `ws://127.0.0.1:${address.port}`;
  }

  replay(path: string, items: readonly Item[]): void {
    const s = this.sockets.get(path)!;
    s.ws.send(s.msgpack ? encode(items.map(toMsgpackItem), { useBigInt64: true }) : jsonText(items));
  }
}

/** Who should get an item: the feed's type -> channel, news by symbols[], unknown types by symbol on any channel. */
function selected(set: Record<string, string[]>, item: Item): boolean {
  const channelOf: Record<string, string> = {
    t: 'trades',
    q: 'quotes',
    b: 'bars',
    d: 'dailyBars',
    u: 'updatedBars',
    s: 'statuses',
    l: 'lulds',
    i: 'imbalances',
    c: 'trades',
    x: 'trades',
    o: 'orderbooks',
    n: 'news',
    p: 'pricing',
  };
  const channel = channelOf[item.T as string];
  const symbols =
    typeof item.S === 'string' ? [item.S] : Array.isArray(item.symbols) ? (item.symbols as string[]) : [];
  const lists = channel ? [set[channel] ?? []] : Object.values(set);
  if (!channel && symbols.length === 0) return lists.some((l) => l.length > 0);
  return lists.some((l) => l.includes('*') || symbols.some((s) => l.includes(s)));
}

/** Id fields, which AlpacaStream hands over as bigint (printed by the fixture as their digits). */
const ID_FIELDS: Record<string, string[]> = { t: ['i'], x: ['i'], c: ['oi', 'ci'], n: ['id'] };

/** The JSON line of an item as the strategy fixture prints it: ids (bigint) as strings of their digits. */
function asPrinted(item: Item): Line {
  const out = JSON.parse(jsonText(item)) as Line;
  for (const key of ID_FIELDS[item.T as string] ?? []) if (key in item) out[key] = String(item[key]);
  return out;
}

const KNOWN_TYPES = ['t', 'q', 'b', 'd', 'u', 's', 'l', 'c', 'x', 'i', 'o', 'n', 'p'];

let upstream: CorpusUpstream;
let runtimeDir: string;
let endpointUrl: string;
const namespace = `corpus-${process.pid}`;
const children: ChildProcess[] = [];
let ring = '';

beforeAll(async () => {
  upstream = new CorpusUpstream();
  await new Promise((r) => upstream.server.once('listening', r));
  runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-corpus-'));
  const child = spawnDaemon(
    [
      ...['--json', '--runtime-dir', runtimeDir, '--namespace', namespace, '--adapter', adapterEntry],
      ...['--linger', '60000', '--log-level', 'warn', '--listen', '127.0.0.1:0'],
    ],
    { WSPROXY_ALPACA_DATA_URL: upstream.url },
  );
  children.push(child);
  const info = await daemonInfo(child);
  ring = info.ring as string;
  endpointUrl = info.endpoint as string;
}, 30_000);

afterAll(async () => {
  await Promise.all(children.map(stopChild));
  upstream?.server.close();
  rmSync(runtimeDir, { recursive: true, force: true });
  expect(readdirSync('/dev/shm')).not.toContain(ring);
});

/** A drop-in endpoint client speaking `encoding`, as an official SDK would, that keeps what it receives. */
async function endpointClient(path: string, encoding: 'json' | 'msgpack', set: Record<string, string[]>) {
  const ws = new WebSocket(`${endpointUrl}${path}`, {
    headers: encoding === 'msgpack' ? { 'Content-Type': 'application/msgpack' } : {},
  });
  const got: Item[] = [];
  ws.on('message', (data, isBinary) => {
    // Decoded without our code: msgpack with 64-bit integers, JSON exactly (ids beyond 2^53).
    const items = (
      isBinary
        ? decode(data as Buffer, {
            useBigInt64: true,
            extensionCodec: isoTimestamps,
          })
        : parseJsonLossless(String(data))
    ) as Item[];
    got.push(...items);
  });
  await new Promise((r) => ws.once('open', r));
  const send = (m: unknown) => ws.send(encoding === 'msgpack' ? encode(m) : JSON.stringify(m));
  send({ action: 'auth', key: KEY, secret: SECRET });
  await until(() => got.some((m) => m.msg === 'authenticated'), 'authenticated', 10_000);
  send({ action: 'subscribe', ...set });
  await until(() => got.some((m) => m.T === 'subscription'), 'the ack', 10_000);
  return { ws, got, set };
}

const isoTimestamps = new ExtensionCodec();
isoTimestamps.register({
  type: EXT_TIMESTAMP,
  encode: () => null,
  decode: (data) => {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const [sec, nsec] =
      data.byteLength === 4
        ? [view.getUint32(0), 0]
        : data.byteLength === 8
          ? [(view.getUint32(0) & 3) * 2 ** 32 + view.getUint32(4), view.getUint32(0) >>> 2]
          : [Number(view.getBigInt64(4)), view.getUint32(0)];
    const base = new Date(sec * 1000).toISOString().slice(0, 19);
    return nsec === 0 ? `${base}Z` : `${base}.${String(nsec).padStart(9, '0').replace(/0+$/, '')}Z`;
  },
});

/** msgpack integers that fit a double come back as numbers, so both encodings compare alike. */
function narrow(v: unknown): unknown {
  if (typeof v === 'bigint')
    return BigInt(Number(v)) === v && Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(narrow);
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, narrow(x)]));
  return v;
}

describe('the corpus of real messages, through a real daemon', { timeout: 90_000 }, () => {
  for (const [name, feed] of Object.entries(CORPUS)) {
    it(`${name}: every item to exactly its subscribers, every value as Alpaca sent it`, async () => {
      const items = feed.samples.map((s) => s.item);
      const symbols = [
        ...new Set(items.flatMap((i) => (typeof i.S === 'string' ? [i.S] : ((i.symbols as string[]) ?? [])))),
      ];
      const channels =
        feed.kind === 'news'
          ? ['news']
          : name === 'crypto-perps'
            ? ['trades', 'orderbooks', 'pricing']
            : ['trades', 'quotes', 'bars', 'updatedBars', 'statuses', 'lulds', 'imbalances', 'orderbooks']
                .filter((c) => feed.kind !== 'crypto' || !['statuses', 'lulds', 'imbalances'].includes(c))
                .filter((c) => feed.kind === 'crypto' || c !== 'orderbooks');
      // Three different sets: everything on half the symbols, `*` on one channel, one symbol on one channel.
      const sets: Record<string, string[]>[] = [
        Object.fromEntries(channels.map((c) => [c, symbols.filter((_, k) => k % 2 === 0)])),
        { [channels[0]!]: ['*'] },
        { [channels[channels.length - 1]!]: [symbols[symbols.length - 1]!] },
      ];
      const shm = spawnStrategy({
        mockUrl: upstream.url,
        path: feed.path.slice(1),
        runtimeDir,
        namespace,
        set: sets[0]!,
        env: { ENCODING: 'msgpack' },
      });
      children.push(shm.child);
      const json = await endpointClient(feed.path, 'json', sets[1]!);
      const msgpack = await endpointClient(feed.path, 'msgpack', sets[2]!);
      await until(() => shm.lines.some((l) => l.ack !== undefined), 'the strategy ack', 20_000);
      json.got.length = 0;
      msgpack.got.length = 0;

      upstream.replay(feed.path, items);
      const expected = sets.map((set) => items.filter((i) => selected(set, i)));
      // The AlpacaStream process prints ids (bigint) as digits; unknown types come as an `unknown` event, not data.
      const shmExpected = expected[0]!.filter((i) => KNOWN_TYPES.includes(i.T as string));
      await until(
        () =>
          shm.lines.filter((l) => l.data).length >= shmExpected.length &&
          json.got.length >= expected[1]!.length &&
          msgpack.got.length >= expected[2]!.length,
        'every client got its items',
        20_000,
      );
      await new Promise((r) => setTimeout(r, 200)); // nothing more may arrive
      expect(shm.lines.filter((l) => l.data).map((l) => l.data)).toEqual(shmExpected.map(asPrinted));
      expect(json.got.map(narrow)).toEqual(expected[1]!.map(narrow));
      expect(msgpack.got.map(narrow)).toEqual(expected[2]!.map(narrow));
      // Unknown types are counted where the daemon reports: `wsproxy status`, the upstream's adapterStats.
      const unknown = items.filter((i) => !KNOWN_TYPES.includes(i.T as string)).length;
      // Items none of the three sets selects are counted as unrouted: nobody wanted them.
      const unrouted = items.filter((i) => !sets.some((set) => selected(set, i))).length;
      const status = JSON.parse(
        execFileSync(
          process.execPath,
          [wsproxyCli, 'status', '--json', '--runtime-dir', runtimeDir, '--namespace', namespace],
          {
            encoding: 'utf8',
          },
        ),
      ) as { upstreams: { url: string; adapterStats?: Record<string, number> }[] };
      const mine = status.upstreams.find((u) => u.url.endsWith(feed.path))!;
      expect(mine.adapterStats).toMatchObject({
        unknownTypeItems: unknown,
        itemsUnrouted: unrouted,
        malformedUpstreamFrames: 0,
      });
      for (const c of [json, msgpack]) c.ws.close();
      await stopChild(shm.child);
    });
  }
});
