// Alpaca's OFFICIAL JavaScript SDK (@alpacahq/alpaca-trade-api, the v4 "TypeScript SDK") against the daemon's
// drop-in endpoint, end to end with real processes: the mock as Alpaca (ONE connection per key), the wsproxy daemon
// (its CLI, --listen, this package's adapter) on a private runtime dir, two strategies written with the SDK exactly
// as a user writes them (test/fixtures/official-sdk-strategy.mjs), each in its own process with overlapping
// symbols, and a shared-memory AlpacaStream strategy beside them; then two more SDK strategies reading crypto and
// news (test/fixtures/official-sdk-crypto-news.mjs). Everything is checked against the mock's record.
//
// The SDK's stock stream is pointed at the endpoint by these lines, which docs/drop-in-endpoint.md shows in its
// JavaScript section and the fixture runs verbatim (the last test checks all three agree):
/*
import { Alpaca } from '@alpacahq/alpaca-trade-api';

const url = process.env.STOCKS_STREAM_URL ?? 'ws://127.0.0.1:8765/v2/iex'; // wsproxy's drop-in endpoint
const alpaca = new Alpaca(); // keys from APCA_API_KEY_ID / APCA_API_SECRET_KEY, as always
const stocks = alpaca.marketData.stockStream({ url }); // the path picks the feed: /v2/iex, /v2/sip, ...
*/
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plain, until } from './daemon-role.js';
import {
  adapterEntry,
  collectLines,
  exited,
  expectExactlyItsOwn,
  type Line,
  onlySession,
  type StrategyProcess,
  spawnStrategy,
  stopChild,
  wsproxyCli,
} from './e2e-processes.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, 'fixtures', 'official-sdk-strategy.mjs');
const namespace = `official-js-sdk-${process.pid}`;

let mock: AlpacaMock;
let runtimeDir: string;
let daemon: ChildProcess;
let daemonInfo: Line;
const children: ChildProcess[] = [];

/** Overlapping sets: every symbol is wanted by at least two strategies on some channel, none by all on all. */
const SET_A = { trades: ['AAPL', 'MSFT'], quotes: ['AAPL'], bars: ['AAPL', 'TSLA'] };
const SET_B = { trades: ['AAPL', 'TSLA'], quotes: ['AAPL', 'MSFT'], bars: ['TSLA'] };
const SET_SHM = { trades: ['MSFT', 'NVDA'], quotes: ['TSLA'], bars: ['MSFT'] };
/** Two strategies reading crypto and news with the SDK, overlapping too. */
const SET_C1 = { trades: ['BTC/USD', 'ETH/USD'], quotes: ['BTC/USD'], news: ['AAPL', 'TSLA'] };
const SET_C2 = {
  trades: ['ETH/USD'],
  quotes: ['BTC/USD', 'ETH/USD'],
  bars: ['BTC/USD'],
  news: ['TSLA', 'NVDA'],
};
const ENDPOINTS = ['v2/iex', 'v1beta3/crypto/us', 'v1beta1/news'];
/**
 * The daemon's linger. It also bounds how long the daemon, started before any client, waits for the first one: the
 * SDK strategies' imports alone take about 2 s on a loaded machine, so a short linger let the daemon exit before
 * they connected. This one covers their start-up; the last test checks the daemon exits within it (and a margin for
 * the load) once the last client has gone.
 */
const LINGER_MS = 15_000;

/** The wire fields the SDK exposes per message type (all of them, under its own names), in one fixed order. */
const FIELDS: Record<string, string[]> = {
  t: ['T', 'S', 'i', 'x', 'p', 's', 'c', 'z', 'tks', 't'],
  q: ['T', 'S', 'bx', 'bp', 'bs', 'ax', 'ap', 'as', 'c', 'z', 't'],
  b: ['T', 'S', 'o', 'h', 'l', 'c', 'v', 'n', 'vw', 't'],
  c: ['T', 'S', 'x', 'oi', 'op', 'os', 'oc', 'ci', 'cp', 'cs', 'cc', 'z', 't'],
  x: ['T', 'S', 'i', 'x', 'p', 's', 'a', 'z', 't'],
};

/**
 * One comparable form for the mock's messages and the SDK's: its type's fields, timestamps with 9 digits. Alpaca (and
 * so the mock) writes Go's RFC3339Nano, trailing zeros of the fraction trimmed; the SDK's raw timestamp has all nine.
 */
function canonical(m: Line): Line {
  const out: Line = {};
  for (const key of FIELDS[m.T as string] ?? Object.keys(m)) out[key] = m[key];
  if (typeof out.t === 'string')
    out.t = out.t.replace(/(:\d\d)(?:\.(\d{1,9}))?Z$/, (_, s: string, f = '') => `${s}.${f.padEnd(9, '0')}Z`);
  return out;
}

interface SdkStrategy extends StrategyProcess {
  readonly name: string;
}

/** A strategy written with the official SDK, in its own process, pointed at the endpoint. */
function startSdkStrategy(name: string, set: Record<string, string[]>): SdkStrategy {
  const child = spawnSdkFixture(fixture, { STOCKS_STREAM_URL: '/v2/iex' }, set);
  return { name, child, lines: collectLines(child), set };
}

/** Runs an official-SDK fixture with the mock's keys, its stream URLs (endpoint paths) and the set to subscribe. */
function spawnSdkFixture(
  script: string,
  paths: Record<string, string>,
  set: Record<string, string[]>,
): ChildProcess {
  const urls = Object.fromEntries(
    Object.entries(paths).map(([name, path]) => [name, `${daemonInfo.endpoint as string}${path}`]),
  );
  const child = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      ...urls,
      SUBSCRIBE: JSON.stringify(set),
      APCA_API_KEY_ID: 'mock-key',
      APCA_API_SECRET_KEY: 'mock-secret',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

/** A news item as the SDK hands it over: its timestamps are Dates, to the millisecond. */
function newsAsSdkSees(m: Line): Line {
  const ms = (t: string) =>
    t.replace(/(:\d\d)(?:\.(\d+))?Z$/, (_, s, f = '') => `${s}.${f.padEnd(3, '0').slice(0, 3)}Z`);
  const { T, id, headline, summary, author, created_at, url, content, symbols, source } = m;
  return {
    T,
    id,
    headline,
    summary,
    author,
    created_at: ms(created_at as string),
    url,
    content,
    symbols,
    source,
  };
}

/**
 * A crypto item as the SDK hands it over: a trade's 64-bit id (beyond 2^53, like Alpaca's) is a JS number, so the SDK
 * rounds it to the nearest double. The endpoint forwarded Alpaca's bytes; the rounding is the SDK's own.
 */
function cryptoAsSdkSees(m: Line): Line {
  return m.T === 't' && typeof m.i === 'string' ? { ...m, i: Number(m.i) } : m;
}

/** A strategy reading crypto and news with the SDK, in its own process, pointed at the endpoint. */
function startCryptoNewsStrategy(set: Record<string, string[]>): StrategyProcess {
  const child = spawnSdkFixture(
    join(here, 'fixtures', 'official-sdk-crypto-news.mjs'),
    { CRYPTO_STREAM_URL: '/v1beta3/crypto/us', NEWS_STREAM_URL: '/v1beta1/news' },
    set,
  );
  return { child, lines: collectLines(child), set };
}

const sdkData = (s: StrategyProcess, stream?: string) =>
  s.lines
    .filter((l) => 'data' in l && l.stream === stream)
    .map((l) => canonical({ ...(l.data as Line), t: l.t }));
const linesOf = (s: StrategyProcess, stream: string) => s.lines.filter((l) => l.stream === stream);
const shmData = (s: StrategyProcess) => s.lines.filter((l) => 'data' in l).map((l) => l.data as Line);
const lastAck = (s: StrategyProcess, lines = s.lines) =>
  lines.findLast((l) => 'ack' in l)?.ack as Line | undefined;
const countOf = (data: Line[], type: string) => data.filter((m) => m.T === type).length;

/** The SDK's subscription state after an ack: exactly the strategy's own set, every other channel empty. */
function ownSet(set: Record<string, string[]>): Line {
  const channels = ['trades', 'quotes', 'bars', 'updatedBars', 'dailyBars', 'statuses', 'lulds'];
  return Object.fromEntries(channels.map((c) => [c, set[c] ?? []]));
}

const sameMembers = (a: unknown, b: string[]) =>
  Array.isArray(a) && a.length === b.length && b.every((s) => a.includes(s));

function ackIsOwn(s: StrategyProcess, lines = s.lines, set = ownSet(s.set)): boolean {
  const ack = lastAck(s, lines);
  return !!ack && Object.entries(set).every(([c, want]) => sameMembers(ack[c], want as string[]));
}

const authOutcome = (lines: Line[]) => lines.find((l) => 'auth' in l)?.auth;
const AUTHENTICATED = { status: 'authenticated', authenticated: true, message: 'authenticated' };

function union(...sets: Record<string, string[]>[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const set of sets)
    for (const [channel, symbols] of Object.entries(set))
      out[channel] = [...new Set([...(out[channel] ?? []), ...symbols])];
  return out;
}

beforeAll(async () => {
  // tickMs 2000 at 25 ticks/s: a synthetic minute every 1.2 s, so minute bars arrive within the test's time.
  mock = await startAlpacaMock({ host: '127.0.0.1', connectionLimit: 1, rate: 25, tickMs: 2000 });
  runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-official-js-sdk-'));
  // `--adapter @wsproxy/alpaca-adapter/daemon` names this package's built daemon entry; inside the monorepo the
  // daemon's own folder cannot resolve that specifier, so it gets the file the specifier resolves to.
  daemon = spawn(
    process.execPath,
    [wsproxyCli, 'start', '--json', '--namespace', namespace, '--adapter', adapterEntry].concat([
      '--listen',
      '127.0.0.1:0',
      '--linger',
      String(LINGER_MS),
      '--log-level',
      'warn',
      '--ring-size',
      '4194304',
    ]),
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WSPROXY_RUNTIME_DIR: runtimeDir, WSPROXY_ALPACA_DATA_URL: mock.url },
    },
  );
  children.push(daemon);
  daemon.stderr!.on('data', (c: Buffer) => process.stderr.write(c));
  daemonInfo = await new Promise<Line>((resolve, reject) => {
    let out = '';
    daemon.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as Line);
    });
    daemon.once('exit', (code) => reject(new Error(`daemon exited early (${code}): ${out}`)));
  });
  expect(daemonInfo.endpoint).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
});

afterAll(async () => {
  await Promise.all(children.map(stopChild));
  await mock?.close();
  if (runtimeDir) rmSync(runtimeDir, { recursive: true, force: true });
});

describe('the official JavaScript SDK on the drop-in endpoint', { timeout: 30_000 }, () => {
  let a: SdkStrategy;
  let b: SdkStrategy;
  let shm: StrategyProcess;
  let cryptoNews: StrategyProcess[] = [];

  it('two SDK strategies and a shared-memory one each get exactly their own data over ONE upstream session', async () => {
    a = startSdkStrategy('A', SET_A);
    b = startSdkStrategy('B', SET_B);
    shm = spawnStrategy({ mockUrl: mock.url, path: 'v2/iex', runtimeDir, namespace, set: SET_SHM });
    children.push(shm.child);

    // Each SDK authenticated (its typed first-auth outcome), and its last ack lists its own set, never the union.
    await until(
      () => [a, b].every((s) => s.lines.some((l) => 'auth' in l)),
      'the SDKs’ auth outcomes',
      15_000,
    );
    for (const s of [a, b]) expect(authOutcome(s.lines)).toEqual(AUTHENTICATED);
    await until(() => [a, b].every((s) => ackIsOwn(s)), 'each SDK’s own ack', 15_000);
    await until(() => lastAck(shm) !== undefined, 'the shared-memory ack', 15_000);

    // Trades, quotes and minute bars for every strategy.
    await until(
      () =>
        [a, b].every((s) => {
          const data = sdkData(s);
          return countOf(data, 't') > 30 && countOf(data, 'q') > 10 && countOf(data, 'b') >= 3;
        }) && countOf(shmData(shm), 'b') >= 3,
      'trades, quotes and bars in every strategy',
      20_000,
    );

    const session = onlySession(mock, 'v2/iex');
    const record = (plain(session.sentData()) as Line[]).map(canonical);
    for (const s of [a, b]) {
      const data = sdkData(s);
      expectExactlyItsOwn(data, record, s.set);
      // Its own symbols and nothing else, on every channel it asked for.
      for (const [type, channel] of [
        ['t', 'trades'],
        ['q', 'quotes'],
        ['b', 'bars'],
      ] as const) {
        const symbols = new Set(data.filter((m) => m.T === type).map((m) => m.S));
        expect([...symbols].sort(), `${s.name} ${channel}`).toEqual([...(s.set[channel] ?? [])].sort());
      }
      expect(s.lines.filter((l) => 'error' in l)).toEqual([]);
    }
    expectExactlyItsOwn(shmData(shm).slice(), plain(session.sentData()) as Line[], SET_SHM);

    // Alpaca (the mock) saw ONE session on the feed, with the daemon's auth and the union of the three sets.
    expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(1);
    expect(mock.sessions()).toHaveLength(1);
    expect((plain(session.received) as Line[])[0]).toEqual({
      action: 'auth',
      key: 'mock-key',
      secret: 'mock-secret',
    });
    const upstreamSet = session.subscriptions() as Record<string, string[]>;
    for (const [channel, symbols] of Object.entries(union(SET_A, SET_B, SET_SHM)))
      expect([...upstreamSet[channel]!].sort(), channel).toEqual([...symbols].sort());
  });

  it('its crypto and news streams too: exactly their own data, ONE upstream session per feed', async () => {
    cryptoNews = [startCryptoNewsStrategy(SET_C1), startCryptoNewsStrategy(SET_C2)];
    await until(
      () => cryptoNews.every((p) => authOutcome(linesOf(p, 'crypto')) && authOutcome(linesOf(p, 'news'))),
      'the crypto and news auth outcomes',
      15_000,
    );
    for (const p of cryptoNews) {
      expect(authOutcome(linesOf(p, 'crypto'))).toEqual(AUTHENTICATED);
      expect(authOutcome(linesOf(p, 'news'))).toEqual(AUTHENTICATED);
    }
    const cryptoSet = ({ news: _, ...rest }: Record<string, string[]>) => rest;
    await until(
      () =>
        cryptoNews.every(
          (p) =>
            ackIsOwn(p, linesOf(p, 'crypto'), ownSet(cryptoSet(p.set))) &&
            ackIsOwn(p, linesOf(p, 'news'), { news: p.set.news! }),
        ),
      'each stream’s own ack',
      15_000,
    );
    await until(
      () =>
        cryptoNews.every((p) => {
          const data = sdkData(p, 'crypto');
          const wantsBars = (p.set.bars ?? []).length > 0;
          return (
            countOf(data, 't') > 20 &&
            countOf(data, 'q') > 10 &&
            (!wantsBars || countOf(data, 'b') >= 2) &&
            linesOf(p, 'news').filter((l) => 'data' in l).length >= 3
          );
        }),
      'crypto trades, quotes, bars and news in both',
      20_000,
    );

    const crypto = onlySession(mock, 'v1beta3/crypto/us');
    const cryptoRecord = (plain(crypto.sentData()) as Line[]).map(canonical).map(cryptoAsSdkSees);
    const newsRecord = plain(onlySession(mock, 'v1beta1/news').sentData()) as Line[];
    for (const p of cryptoNews) {
      expectExactlyItsOwn(sdkData(p, 'crypto'), cryptoRecord, cryptoSet(p.set));
      // News has no replay for late joiners: from its first item on, exactly the record's items about its symbols.
      const got = linesOf(p, 'news')
        .filter((l) => 'data' in l)
        .map((l) => l.data as Line);
      const mine = newsRecord
        .filter((n) => (n.symbols as string[]).some((s) => p.set.news!.includes(s)))
        .map(newsAsSdkSees);
      const first = mine.findIndex((n) => n.id === got[0]!.id);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(got).toEqual(mine.slice(first, first + got.length));
      expect(p.lines.filter((l) => 'error' in l)).toEqual([]);
    }
    for (const endpoint of ENDPOINTS) expect(mock.sessions({ endpoint }), endpoint).toHaveLength(1);
    const upstreamCrypto = crypto.subscriptions() as Record<string, string[]>;
    for (const [channel, symbols] of Object.entries(cryptoSet(union(SET_C1, SET_C2))))
      expect([...upstreamCrypto[channel]!].sort(), channel).toEqual([...symbols].sort());
  });

  it('when the strategies leave, the SDKs disconnect cleanly and the daemon releases everything', {
    timeout: LINGER_MS + 40_000,
  }, async () => {
    const ring = daemonInfo.ring as string;
    expect(readdirSync('/dev/shm')).toContain(ring);
    const socket = daemonInfo.socket as string;
    expect(existsSync(socket)).toBe(true);

    // SDK A disconnects as a user's code does: the symbols only it wanted leave the upstream set.
    a.child.stdin!.write('stop\n');
    await exited(a.child);
    expect(a.child.exitCode).toBe(0);
    expect(a.lines.some((l) => l.event === 'disconnected')).toBe(true);
    const session = onlySession(mock, 'v2/iex');
    const rest = union(SET_B, SET_SHM);
    await until(
      () => {
        const now = session.subscriptions() as Record<string, string[]>;
        return Object.entries(rest).every(([c, symbols]) => sameMembers(now[c], symbols));
      },
      'the upstream set shrunk to what B and the shared-memory strategy want',
      10_000,
    );
    // AAPL bars were only A's.
    expect((session.subscriptions() as Record<string, string[]>).bars).not.toContain('AAPL');

    for (const p of [b, ...cryptoNews]) p.child.stdin!.write('stop\n');
    shm.child.kill('SIGTERM');
    await Promise.all([b, shm, ...cryptoNews].map((p) => exited(p.child)));
    for (const p of [b, ...cryptoNews]) expect(p.child.exitCode).toBe(0);

    // Nobody left: the daemon lingers (still serving its socket), then closes the upstream, removes its socket and
    // ring, and exits within its linger and a margin for a loaded machine.
    expect(existsSync(socket)).toBe(true);
    await Promise.race([
      exited(daemon),
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error(`the daemon did not exit within ${LINGER_MS} ms + 10 s`)),
          LINGER_MS + 10_000,
        ),
      ),
    ]);
    expect(daemon.exitCode).toBe(0);
    expect(existsSync(socket)).toBe(false);
    expect(readdirSync('/dev/shm')).not.toContain(ring);
    await until(() => mock.sessions({ open: true }).length === 0, 'the upstream session closed');
    // Still one session per feed, from first to last.
    for (const endpoint of ENDPOINTS) expect(mock.sessions({ endpoint }), endpoint).toHaveLength(1);
    expect(mock.sessions()).toHaveLength(ENDPOINTS.length);
    expect(children.every((c) => c.exitCode !== null || c.signalCode !== null)).toBe(true);
  });

  it('docs/drop-in-endpoint.md shows the SDK lines the fixture runs', () => {
    const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();
    const snippet = /\/\*\n([\s\S]*?)\*\//.exec(readFileSync(fileURLToPath(import.meta.url), 'utf8'))![1]!;
    expect(snippet).toContain('stockStream');
    const docs = readFileSync(join(here, '..', '..', '..', 'docs', 'drop-in-endpoint.md'), 'utf8');
    expect(normalise(readFileSync(fixture, 'utf8'))).toContain(normalise(snippet));
    expect(normalise(docs)).toContain(normalise(snippet));
  });
});
