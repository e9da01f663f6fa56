// The daemon's drop-in endpoint end to end, with real processes: the wsproxy daemon (its CLI, `--listen`, this
// package's adapter), strategies written against Alpaca's wire protocol only (plain `ws` + msgpack, as the official
// SDKs are) in their own processes, a shared-memory strategy (AlpacaStream) beside them, and the mock as Alpaca,
// enforcing ONE connection per key. Everything is checked against the mock's own record.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, encode } from '@msgpack/msgpack';
import { type AlpacaMock, type MockSession, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { plain, until } from './daemon-role.js';
import {
  adapterEntry,
  collectLines,
  expectExactlyItsOwn,
  type Line,
  onlySession as onlyOpenSession,
  spawnStrategy,
  stopChild,
  wsproxyCli,
} from './e2e-processes.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Client {
  readonly child: ChildProcess;
  readonly lines: Line[];
  readonly set: Record<string, string[]>;
}

let mock: AlpacaMock;
let runtimeDir: string;
let endpointUrl: string;
const namespace = `endpoint-e2e-${process.pid}`;
const children: ChildProcess[] = [];
/** Shared-memory rings of the daemons we started: all must be gone at the end. */
const rings: string[] = [];

/** Starts `wsproxy start --json ...extra`; resolves with the process and its first stdout line. */
function startDaemon(
  ns: string,
  extra: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; info: Line }> {
  const child = spawn(
    process.execPath,
    [wsproxyCli, 'start', '--json', '--runtime-dir', runtimeDir, '--namespace', ns, '--adapter', adapterEntry]
      .concat(['--linger', '60000', '--log-level', 'warn', '--ring-size', '4194304'])
      .concat(extra),
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        WSPROXY_ALPACA_DATA_URL: mock.url,
        WSPROXY_ALPACA_TRADING_URL: mock.url,
        ...env,
      },
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!out.includes('\n')) return;
      const info = JSON.parse(out.split('\n')[0]!) as Line;
      rings.push(info.ring as string);
      resolve({ child, info });
    });
    child.stderr!.on('data', (c: Buffer) => process.stderr.write(c));
    child.once('exit', (code) => reject(new Error(`daemon exited early (${code}): ${out}`)));
  });
}

/** A shared-memory strategy (AlpacaStream through the daemon's Unix socket and ring). */
function startShmStrategy(
  set: Record<string, string[]>,
  {
    path = 'v2/iex',
    ns = namespace,
    env = {},
  }: { path?: string; ns?: string; env?: Record<string, string> } = {},
): Client {
  const strategy = spawnStrategy({ mockUrl: mock.url, path, runtimeDir, namespace: ns, set, env });
  children.push(strategy.child);
  return strategy;
}

/** A strategy speaking Alpaca's wire protocol to the endpoint, in its own process. */
function startSdkClient(
  path: string,
  encoding: 'json' | 'msgpack',
  set: Record<string, string[]>,
  base = endpointUrl,
): Client {
  const child = spawn(process.execPath, [join(here, 'fixtures', 'sdk-client.mjs')], {
    env: {
      ...process.env,
      ENDPOINT_URL: `${base}${path}`,
      ENCODING: encoding,
      SUBSCRIBE: JSON.stringify(set),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  return { child, lines: collectLines(child), set };
}

const dataOf = (c: Client) => c.lines.filter((l) => 'data' in l).map((l) => l.data as Line);
const controlsOf = (c: Client) => c.lines.filter((l) => 'control' in l).map((l) => l.control as Line);
const ackOf = (c: Client) =>
  (c.lines.find((l) => 'ack' in l)?.ack ?? controlsOf(c).find((m) => m.T === 'subscription')) as
    | Line
    | undefined;

const onlySession = (endpoint: string): MockSession => onlyOpenSession(mock, endpoint);

const record = () => plain(onlySession('v2/iex').sentData()) as Line[];

beforeAll(async () => {
  mock = await startAlpacaMock({ rate: 25 });
  runtimeDir = mkdtempSync(join(tmpdir(), 'wsproxy-endpoint-e2e-'));
  const { info } = await startDaemon(namespace, [
    '--listen',
    '127.0.0.1:0',
    '--listen-buffer',
    '262144',
    '--listen-auth-timeout',
    '1500',
  ]);
  endpointUrl = info.endpoint as string;
});

afterAll(async () => {
  await Promise.all(children.map(stopChild));
  // A daemon a strategy spawned is not our child: stop it by its socket (a no-op when it is already gone).
  try {
    execFileSync(
      process.execPath,
      [wsproxyCli, 'stop', '--runtime-dir', runtimeDir, '--namespace', `${namespace}-spawned`],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    // Not running.
  }
  await mock?.close();
  rmSync(runtimeDir, { recursive: true, force: true });
  // The daemons removed their rings.
  expect(rings.length).toBeGreaterThan(0);
  expect(readdirSync('/dev/shm').filter((name) => rings.includes(name))).toEqual([]);
});

describe('endpoint and shared-memory strategies on one upstream', { timeout: 60_000 }, () => {
  const clients: Client[] = [];

  it('each gets exactly its own data, JSON and msgpack alike, and the mock sees ONE session', async () => {
    const shm = startShmStrategy({ trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] });
    await until(() => ackOf(shm) !== undefined, 'the shared-memory ack', 20_000);
    const json = startSdkClient('/v2/iex', 'json', { trades: ['AAPL', 'TSLA'] });
    // The Go SDK's form: DATA_PROXY_WS + "/" + feed, no version.
    const go = startSdkClient('/iex', 'msgpack', { quotes: ['AAPL', 'NVDA'], trades: ['MSFT'] });
    clients.push(shm, json, go);
    await until(() => clients.every((c) => ackOf(c) !== undefined), 'every ack', 20_000);

    expect(controlsOf(json)).toEqual([
      { T: 'success', msg: 'connected' },
      { T: 'success', msg: 'authenticated' },
      expect.objectContaining({ T: 'subscription', trades: ['AAPL', 'TSLA'], quotes: [] }),
    ]);
    expect(ackOf(go)).toMatchObject({ T: 'subscription', trades: ['MSFT'], quotes: ['AAPL', 'NVDA'] });
    expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(1);
    // Only what the union lacked went upstream (the two endpoint clients subscribed concurrently: either order).
    const sent = plain(onlySession('v2/iex').received) as Line[];
    expect(sent.slice(0, 2)).toEqual([
      { action: 'auth', key: 'mock-key', secret: 'mock-secret' },
      { action: 'subscribe', trades: ['AAPL', 'MSFT'], quotes: ['AAPL'] },
    ]);
    expect(sent.slice(2)).toHaveLength(2);
    expect(sent.slice(2)).toEqual(
      expect.arrayContaining([
        { action: 'subscribe', trades: ['TSLA'] },
        { action: 'subscribe', quotes: ['NVDA'] },
      ]),
    );

    await until(() => clients.every((c) => dataOf(c).length > 40), 'data in every strategy', 20_000);
    const snapshot = clients.map((c) => dataOf(c).slice());
    const now = record();
    for (const [k, c] of clients.entries()) expectExactlyItsOwn(snapshot[k]!, now, c.set);
    // As the SDKs need it: msgpack maps start with T and carry timestamps as the extension type.
    const goLines = go.lines.filter((l) => 'data' in l);
    expect(goLines.every((l) => l.tFirst === true && l.ext === true)).toBe(true);
    expect([...json.lines, ...go.lines].some((l) => 'wrongFrameType' in l)).toBe(false);
  });

  it("serves the Go SDK's DATA_CRYPTO_PROXY_WS paths: /us is crypto, /global the perps feed with its pricing items", async () => {
    // alpaca-trade-api-go's CryptoClient dials DATA_CRYPTO_PROXY_WS + "/" + feed (marketdata.US, marketdata.GLOBAL).
    const crypto = startSdkClient('/us', 'json', { trades: ['BTC/USD'] });
    const perps = startSdkClient('/global', 'msgpack', { pricing: ['BTC-PERP'] });
    await until(() => [crypto, perps].every((c) => dataOf(c).length >= 3), 'data on /us and /global', 20_000);
    expect(ackOf(perps)).toMatchObject({ T: 'subscription', pricing: ['BTC-PERP'], trades: [] });
    expect(new Set(dataOf(crypto).map((m) => `${m.T} ${m.S}`))).toEqual(new Set(['t BTC/USD']));
    const pricing = dataOf(perps);
    expect(new Set(pricing.map((m) => `${m.T} ${m.S}`))).toEqual(new Set(['p BTC-PERP']));
    for (const m of pricing) for (const k of ['ip', 'mp', 'fr', 'oi']) expect(typeof m[k]).toBe('number');
    expect(perps.lines.filter((l) => 'data' in l).every((l) => l.tFirst === true && l.ext === true)).toBe(
      true,
    );
    // Each reached its own Alpaca path upstream.
    expect(mock.sessionCount({ endpoint: 'v1beta3/crypto/us' })).toBe(1);
    expect(mock.sessionCount({ endpoint: 'v1beta1/crypto-perps/global' })).toBe(1);
    await Promise.all([stopChild(crypto.child), stopChild(perps.child)]);
  });

  it('a client that stops reading gets 407 and is closed; the others keep receiving', async () => {
    const slow = startSdkClient('/v2/iex', 'msgpack', { trades: ['SLOW'] });
    await until(() => ackOf(slow) !== undefined, 'the slow client ack', 20_000);
    slow.child.stdin!.write('pause\n');
    await until(() => slow.lines.some((l) => l.event === 'paused'), 'the pause');
    const before = clients.map((c) => dataOf(c).length);

    // 24 MiB for SLOW only: more than the kernel's socket buffers plus the endpoint's 256 KiB send buffer.
    const big = 'x'.repeat(256 * 1024);
    for (let batch = 0; batch < 12; batch++) {
      const trades = Array.from({ length: 8 }, (_, k) => ({
        T: 't',
        S: 'SLOW',
        i: batch * 8 + k,
        x: 'V',
        p: 1,
        s: 1,
        c: [big],
        z: 'C',
        t: '2024-01-02T15:00:00Z',
      }));
      expect(mock.push(trades, { endpoint: 'v2/iex', open: true })).toBe(1);
      await new Promise((r) => setTimeout(r, 50));
    }
    slow.child.stdin!.write('resume\n');
    await until(() => slow.lines.some((l) => l.event === 'close'), 'the slow client closed', 20_000);
    expect(controlsOf(slow)).toContainEqual({ T: 'error', code: 407, msg: 'slow client' });
    expect(slow.lines.find((l) => l.event === 'close')).toEqual({ event: 'close', code: 1008 });
    // It got fewer than all 96 big trades: the rest were not queued for it.
    expect(dataOf(slow).length).toBeLessThan(96);

    await until(
      () => clients.every((c, k) => dataOf(c).length > before[k]! + 20),
      'the others still receiving',
      20_000,
    );
    const now = record();
    for (const c of clients) expectExactlyItsOwn(dataOf(c).slice(), now, c.set);
    expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(1);
  });

  it('bad input gets Alpaca’s own answers and disturbs nobody', async () => {
    const before = clients.map((c) => dataOf(c).length);
    const answers = await badInputAnswers();
    expect(answers.garbageText).toEqual([
      { T: 'success', msg: 'connected' },
      { T: 'error', code: 400, msg: 'invalid syntax' },
    ]);
    expect(answers.garbageBinary.at(-1)).toEqual({ T: 'error', code: 400, msg: 'invalid syntax' });
    expect(answers.subscribeFirst.at(-1)).toEqual({ T: 'error', code: 401, msg: 'not authenticated' });
    expect(answers.wrongSecret.slice(1)).toEqual([
      { T: 'error', code: 402, msg: 'auth failed' },
      { T: 'success', msg: 'authenticated' },
      { T: 'error', code: 403, msg: 'already authenticated' },
      { T: 'error', code: 400, msg: 'invalid syntax' },
      expect.objectContaining({ T: 'subscription', quotes: ['AMD'] }),
    ]);
    expect(answers.bigGarbage.at(-1)).toEqual({ T: 'error', code: 400, msg: 'invalid syntax' });
    expect(answers.huge).toEqual({ close: 1009 });
    expect(answers.silent).toEqual({
      frames: [
        { T: 'success', msg: 'connected' },
        { T: 'error', code: 404, msg: 'auth timeout' },
      ],
      close: 1008,
    });
    expect(answers.pong).toBe(true);
    expect(answers.unknownPath).toBe(404);
    expect(answers.strangerAuth).toEqual([
      { T: 'success', msg: 'connected' },
      { T: 'error', code: 402, msg: 'auth failed' },
    ]);
    expect(answers.headerAuth).toEqual([
      { T: 'success', msg: 'connected' },
      { T: 'success', msg: 'authenticated' },
    ]);

    await until(
      () => clients.every((c, k) => dataOf(c).length > before[k]! + 10),
      'the others undisturbed',
      20_000,
    );
    const now = record();
    for (const c of clients) expectExactlyItsOwn(dataOf(c).slice(), now, c.set);
    expect(mock.sessionCount({ endpoint: 'v2/iex' })).toBe(1);
  });

  it('an upstream drop closes endpoint clients (1012) so their SDKs reconnect; a client back at once is served', async () => {
    const [shm, json, go] = clients as [Client, Client, Client];
    const first = onlySession('v2/iex');
    expect(mock.drop({ endpoint: 'v2/iex' })).toBe(1);
    await until(
      () => [json, go].every((c) => c.lines.some((l) => l.event === 'close')),
      'the endpoint clients closed',
      15_000,
    );
    for (const c of [json, go])
      expect(c.lines.find((l) => l.event === 'close')).toEqual({ event: 'close', code: 1012 });
    // As an SDK does: reconnect straight away, authenticate, resubscribe.
    const back = startSdkClient('/v2/iex', 'msgpack', { trades: ['AAPL', 'TSLA'] });
    const shmBefore = dataOf(shm).length;
    await until(() => ackOf(back) !== undefined, 'the returning client ack', 20_000);
    expect(ackOf(back)).toMatchObject({ trades: ['AAPL', 'TSLA'] });
    await until(
      () => mock.sessions({ endpoint: 'v2/iex', open: true }).some((s) => s.id !== first.id),
      'a new upstream session',
      15_000,
    );
    await until(
      () => dataOf(back).length > 20 && dataOf(shm).length > shmBefore + 20,
      'data after the reconnect',
      20_000,
    );
    expect(shm.lines.some((l) => l.event === 'reconnected')).toBe(true);
    const now = record();
    expectExactlyItsOwn(dataOf(back).slice(), now, back.set);
    expect(mock.sessions({ endpoint: 'v2/iex', open: true })).toHaveLength(1);
  });
});

/** Opens a raw connection to the endpoint; collects its control messages (answers and errors, not data). */
function raw(
  path: string,
  encoding: 'json' | 'msgpack' = 'json',
  url = endpointUrl,
  headers: Record<string, string> = {},
) {
  const ws = new WebSocket(`${url}${path}`, {
    headers: { 'Content-Type': `application/${encoding}`, ...headers },
    rejectUnauthorized: false,
  });
  const frames: Line[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const messages = (isBinary ? decode(data) : JSON.parse(data.toString())) as Line[];
    frames.push(...messages.filter((m) => ['success', 'error', 'subscription'].includes(m.T as string)));
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, closed, opened };
}

async function answered(c: ReturnType<typeof raw>, count: number): Promise<Line[]> {
  await until(() => c.frames.length >= count, `${count} answers`, 10_000);
  return c.frames.slice();
}

async function badInputAnswers() {
  const garbage = raw('/v2/iex');
  await garbage.opened;
  garbage.ws.send('{"action": auth!!');
  const garbageText = await answered(garbage, 2);

  const binary = raw('/v2/iex', 'msgpack');
  await binary.opened;
  binary.ws.send(Buffer.from([0xc1, 0xff, 0x00]));
  const garbageBinary = await answered(binary, 2);

  const early = raw('/v2/iex', 'msgpack');
  await early.opened;
  early.ws.send(encode({ action: 'subscribe', trades: ['AAPL'] }));
  const subscribeFirst = await answered(early, 2);

  const retry = raw('/v2/iex');
  await retry.opened;
  retry.ws.send(JSON.stringify({ action: 'auth', key: 'mock-key', secret: 'wrong' }));
  await answered(retry, 2);
  retry.ws.send(JSON.stringify({ action: 'auth', key: 'mock-key', secret: 'mock-secret' }));
  await answered(retry, 3);
  retry.ws.send(JSON.stringify({ action: 'auth', key: 'mock-key', secret: 'mock-secret' }));
  await answered(retry, 4);
  retry.ws.send(JSON.stringify({ action: 'dance', trades: ['AAPL'] }));
  await answered(retry, 5);
  // A subscribe split into WebSocket fragments, as alpaca-py does with large ones.
  const subscribe = Buffer.from(JSON.stringify({ action: 'subscribe', quotes: ['AMD'] }));
  retry.ws.send(subscribe.subarray(0, 10), { fin: false });
  retry.ws.send(subscribe.subarray(10), { fin: true });
  const wrongSecret = await answered(retry, 6);
  const bigGarbageFrame = Buffer.alloc(512 * 1024, 0x61);
  retry.ws.send(bigGarbageFrame);
  const bigGarbage = await answered(retry, 7);
  const pong = await new Promise<boolean>((resolve) => {
    retry.ws.once('pong', () => resolve(true));
    retry.ws.ping();
  });
  retry.ws.close();

  const huge = raw('/v2/iex');
  await huge.opened;
  huge.ws.send(Buffer.alloc(2 * 1024 * 1024, 0x61));
  const hugeClose = await huge.closed;

  const silent = raw('/v2/iex');
  const silentClose = await silent.closed;

  // Keys nobody holds here: they are tried with Alpaca (the mock), whose refusal is passed on.
  const stranger = raw('/v2/test');
  await stranger.opened;
  stranger.ws.send(JSON.stringify({ action: 'auth', key: 'stranger', secret: 'nope' }));
  const strangerAuth = await answered(stranger, 2);
  stranger.ws.close();

  // Keys in the upgrade headers authenticate at once, as with Alpaca.
  const viaHeaders = raw('/v2/iex', 'msgpack', endpointUrl, {
    'APCA-API-KEY-ID': 'mock-key',
    'APCA-API-SECRET-KEY': 'mock-secret',
  });
  const headerAuth = await answered(viaHeaders, 2);
  viaHeaders.ws.close();

  const unknownPath = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${endpointUrl}/v9/nowhere`);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => {});
  });
  for (const c of [garbage, binary, early]) c.ws.close();
  return {
    garbageText,
    garbageBinary,
    subscribeFirst,
    wrongSecret,
    bigGarbage,
    huge: { close: hugeClose },
    silent: { frames: silent.frames, close: silentClose },
    pong,
    unknownPath,
    headerAuth,
    strangerAuth,
  };
}

describe('the account stream (trade_updates) through the endpoint', { timeout: 60_000 }, () => {
  it('an SDK-style client and a shared-memory strategy share ONE session; wrong keys are unauthorized', async () => {
    const shm = startShmStrategy({}, { path: 'stream', env: { LISTEN: JSON.stringify(['trade_updates']) } });
    await until(() => ackOf(shm) !== undefined, 'the strategy listening', 20_000);
    const account = (secret: string) => {
      const ws = new WebSocket(`${endpointUrl}/stream`);
      const messages: Line[] = [];
      ws.on('message', (data: Buffer) => {
        if (data.length > 1) messages.push(JSON.parse(data.toString()) as Line);
      });
      ws.on('open', () =>
        ws.send(JSON.stringify({ action: 'authenticate', data: { key_id: 'mock-key', secret_key: secret } })),
      );
      return { ws, messages };
    };
    const wrong = account('nope');
    await until(() => wrong.messages.length > 0, 'the refusal', 10_000);
    expect(wrong.messages[0]).toEqual({
      stream: 'authorization',
      data: { status: 'unauthorized', action: 'authenticate' },
    });
    wrong.ws.close();

    const sdk = account('mock-secret');
    await until(() => sdk.messages.length > 0, 'the authorization', 10_000);
    expect(sdk.messages[0]).toEqual({
      stream: 'authorization',
      data: { status: 'authorized', action: 'authenticate' },
    });
    sdk.ws.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
    await until(() => sdk.messages.length > 1, 'listening', 10_000);
    expect(sdk.messages[1]).toEqual({ stream: 'listening', data: { streams: ['trade_updates'] } });
    const events = () => sdk.messages.filter((m) => m.stream === 'trade_updates');
    await until(() => events().length > 2 && dataOf(shm).length > 2, 'trade updates in both', 20_000);
    expect(mock.sessionCount({ endpoint: 'stream' })).toBe(1);
    // The same events reach both, in the same order.
    const first = JSON.stringify(events()[0]);
    const at = dataOf(shm).findIndex((m) => JSON.stringify(m) === first);
    expect(at).toBeGreaterThanOrEqual(0);
    sdk.ws.close();
    await stopChild(shm.child);
  });
});

describe('listening options', { timeout: 60_000 }, () => {
  it('binding beyond loopback without an access token is refused, and says why', async () => {
    const ns = `${namespace}-open`;
    const child = spawn(
      process.execPath,
      [
        wsproxyCli,
        'start',
        '--runtime-dir',
        runtimeDir,
        '--namespace',
        ns,
        '--adapter',
        adapterEntry,
        '--listen',
        '0.0.0.0:0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toContain('access token');
    expect(existsSync(join(runtimeDir, `${ns}.sock`))).toBe(false);
  });

  it('with a token and TLS: refused without the token, served with it (header, query, or path prefix)', async () => {
    const certDir = mkdtempSync(join(tmpdir(), 'wsproxy-endpoint-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-subj',
          '/CN=localhost',
          '-days',
          '1',
          '-keyout',
          join(certDir, 'key.pem'),
          '-out',
          join(certDir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      // Keys configured for the endpoint: clients present these, the daemon uses its own with Alpaca.
      const endpointKeys = {
        WSPROXY_ENDPOINT_KEY_ID: 'local-key',
        WSPROXY_ENDPOINT_SECRET_KEY: 'local-secret',
        APCA_API_KEY_ID: 'mock-key',
        APCA_API_SECRET_KEY: 'mock-secret',
      };
      const { child, info } = await startDaemon(
        `${namespace}-tls`,
        [
          '--listen',
          '127.0.0.1:0',
          '--listen-token',
          'local-token',
          '--tls-cert',
          join(certDir, 'cert.pem'),
          '--tls-key',
          join(certDir, 'key.pem'),
        ],
        endpointKeys,
      );
      const url = info.endpoint as string;
      expect(url.startsWith('wss://127.0.0.1:')).toBe(true);
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${url}/v2/iex`, { rejectUnauthorized: false });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('error', () => {});
      });
      expect(refused).toBe(401);
      for (const path of ['/local-token/test', '/v2/test?token=local-token']) {
        const c = raw(path, 'msgpack', url);
        await c.opened;
        c.ws.send(encode({ action: 'auth', key: 'mock-key', secret: 'mock-secret' }));
        c.ws.send(encode({ action: 'auth', key: 'local-key', secret: 'local-secret' }));
        expect(await answered(c, 3)).toEqual([
          { T: 'success', msg: 'connected' },
          // The real keys are not the endpoint's: refused locally.
          { T: 'error', code: 402, msg: 'auth failed' },
          { T: 'success', msg: 'authenticated' },
        ]);
        c.ws.close();
        await c.closed;
      }
      await stopChild(child);
    } finally {
      rmSync(certDir, { recursive: true, force: true });
    }
  });
});

describe('a strategy that spawns the daemon', { timeout: 60_000 }, () => {
  it('can ask it for the endpoint (daemonArgs), and SDK clients then share its upstream', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const ns = `${namespace}-spawned`;
    const strategy = startShmStrategy(
      { trades: ['FAKEPACA'] },
      {
        path: 'v2/test',
        ns,
        env: {
          DAEMON_ARGS: JSON.stringify(['--listen', `127.0.0.1:${port}`]),
          WSPROXY_ALPACA_DATA_URL: mock.url,
        },
      },
    );
    await until(() => ackOf(strategy) !== undefined, 'the strategy ack', 20_000);
    const sdk = startSdkClient('/test', 'json', { quotes: ['FAKEPACA'] }, `ws://127.0.0.1:${port}`);
    await until(() => ackOf(sdk) !== undefined, 'the SDK client ack', 20_000);
    await until(() => dataOf(strategy).length > 10 && dataOf(sdk).length > 10, 'data in both', 20_000);
    expect(dataOf(strategy).every((m) => ['t', 'c', 'x'].includes(m.T as string) && m.S === 'FAKEPACA')).toBe(
      true,
    );
    expect(dataOf(sdk).every((m) => m.T === 'q' && m.S === 'FAKEPACA')).toBe(true);
    expect(mock.sessions({ endpoint: 'v2/test', open: true })).toHaveLength(1);
    // The spawned daemon is ours to clean up: stop it, and with it its ring.
    const status = JSON.parse(
      execFileSync(
        process.execPath,
        [wsproxyCli, 'status', '--json', '--runtime-dir', runtimeDir, '--namespace', ns],
        {
          encoding: 'utf8',
        },
      ),
    ) as { ring: { name: string } };
    rings.push(status.ring.name);
    await Promise.all([stopChild(strategy.child), stopChild(sdk.child)]);
    execFileSync(process.execPath, [wsproxyCli, 'stop', '--runtime-dir', runtimeDir, '--namespace', ns], {
      stdio: 'ignore',
    });
  });
});
