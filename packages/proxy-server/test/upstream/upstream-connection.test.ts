// UpstreamConnection against a real `ws` server on loopback, with Node's timers faked so backoff delays, pings and
// pong timeouts are stepped exactly (socket I/O stays real). The jitter's random source is injected, so every delay
// below is the formula's, not a range.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DaemonErrorCode } from '@wsproxy/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from 'ws';
import type { ReconnectingInfo } from '../../src/upstream/upstream-connection.js';
import { UpstreamConnection } from '../../src/upstream/upstream-connection.js';

/** A loopback server whose answer to each upgrade the test decides: accept, or an HTTP status (with headers). */
class ScriptedServer {
  readonly wss: WebSocketServer;
  readonly http: Server;
  /** Answers for the next upgrades, in order; `accept` once they run out. */
  readonly script: Array<'accept' | { status: number; headers?: Record<string, string> }> = [];
  upgrades = 0;

  constructor(options: { autoPong?: boolean } = {}) {
    this.wss = new WebSocketServer({ noServer: true, autoPong: options.autoPong ?? true });
    this.http = createServer();
    this.http.on('upgrade', (request, socket: Socket, head) => {
      this.upgrades += 1;
      const answer = this.script.shift() ?? 'accept';
      if (answer === 'accept') {
        this.wss.handleUpgrade(request, socket, head, (ws) => this.wss.emit('connection', ws, request));
        return;
      }
      const headers = Object.entries(answer.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.end(`HTTP/1.1 ${answer.status} Refused\r\n${headers.join('')}Connection: close\r\n\r\n`);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    return `ws://127.0.0.1:${(this.http.address() as AddressInfo).port}/feed`;
  }

  dropAll(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise((resolve) => this.http.close(resolve));
  }
}

/** Lets real I/O happen (fake timers leave setImmediate alone) until `check` holds; bounded. */
async function ioUntil(check: () => boolean, what: string): Promise<void> {
  for (let turns = 0; !check(); turns++) {
    if (turns > 20_000) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

let server: ScriptedServer;
let connection: UpstreamConnection | undefined;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
});

afterEach(async () => {
  vi.useRealTimers();
  await connection?.close();
  connection = undefined;
  await server?.close();
});

function recordReconnects(c: UpstreamConnection): ReconnectingInfo[] {
  const seen: ReconnectingInfo[] = [];
  c.on('reconnecting', (info) => seen.push(info));
  return seen;
}

/**
 * The keepalive tests' set-up: a server that answers pings only with `autoPong`, a connection pinging it (no jitter),
 * and the reconnects it reports.
 */
async function pingedConnection(
  autoPong: boolean,
  pings: { pingIntervalMs: number; pongTimeoutMs: number },
): Promise<{ connection: UpstreamConnection; reconnects: ReconnectingInfo[] }> {
  server = new ScriptedServer({ autoPong });
  const url = await server.listen();
  connection = new UpstreamConnection({ url, ...pings, random: () => 0 });
  return { connection, reconnects: recordReconnects(connection) };
}

describe('UpstreamConnection', () => {
  it('backs off with its injected random, honours Retry-After, and keeps redialling through refused sessions', async () => {
    server = new ScriptedServer();
    const url = await server.listen();
    connection = new UpstreamConnection({
      url,
      pingIntervalMs: 0,
      random: () => 0.5,
      reconnect: { initialDelayMs: 1_000, factor: 2, maxDelayMs: 30_000 },
    });
    const reconnects = recordReconnects(connection);
    await connection.connect();
    expect(connection.state.kind).toBe('authenticating');
    connection.markReady();
    expect(connection.state.kind).toBe('open');

    // A plain drop: attempt 1, half of the 1 s ceiling.
    server.script.push({ status: 429, headers: { 'Retry-After': '2' } });
    server.dropAll();
    await ioUntil(() => reconnects.length === 1, 'the first retry');
    expect(reconnects[0]).toMatchObject({
      attempt: 1,
      delayMs: 500,
      failure: { code: DaemonErrorCode.UPSTREAM_CLOSED },
    });
    expect(connection.state).toMatchObject({ kind: 'reconnecting', attempt: 1, delayMs: 500 });

    // The redial meets 429 with Retry-After 2: the floor wins over the jittered 1 s; the 429 is named as such.
    vi.advanceTimersByTime(500);
    await ioUntil(() => reconnects.length === 2, 'the 429');
    expect(reconnects[1]).toMatchObject({
      attempt: 2,
      delayMs: 2_000,
      failure: { code: DaemonErrorCode.RATE_LIMITED, vendorCode: 429, retryAfterMs: 2_000 },
    });
    expect(reconnects[1]!.reason).toMatch(/rate limited/);
    expect(connection.lastFailure).toMatchObject({ code: DaemonErrorCode.RATE_LIMITED });

    // Let in, but the vendor refuses the session (Alpaca 406 on re-auth): the attempt count goes on.
    vi.advanceTimersByTime(1_999);
    expect(server.upgrades).toBe(2);
    vi.advanceTimersByTime(1);
    await ioUntil(() => connection!.state.kind === 'authenticating', 'the third socket');
    const refusedDial = connection.dials;
    connection.refuse({ code: DaemonErrorCode.UPSTREAM_LIMIT, vendorCode: 406, message: 'Alpaca error 406' });
    await ioUntil(() => reconnects.length === 3, 'the retry after the refusal');
    expect(reconnects[2]).toMatchObject({
      attempt: 3,
      delayMs: 2_000,
      failure: { code: DaemonErrorCode.UPSTREAM_LIMIT, vendorCode: 406 },
    });

    // Back: a verdict about the refused socket's session no longer touches the new one.
    vi.advanceTimersByTime(2_000);
    await ioUntil(() => connection!.state.kind === 'authenticating', 'the fourth socket');
    connection.refuse({ code: DaemonErrorCode.UPSTREAM_LIMIT, message: 'late' }, refusedDial);
    connection.markReady();
    expect(connection.state.kind).toBe('open');
    expect(connection.lastFailure).toBeUndefined();
    expect(connection.stats.reconnects).toBe(2);
    expect(server.upgrades).toBe(4);
  });

  it('an upstream that stops answering pings is declared half-dead after the pong timeout and redialled', async () => {
    const { connection, reconnects } = await pingedConnection(false, {
      pingIntervalMs: 1_000,
      pongTimeoutMs: 500,
    });
    await connection.connect();
    connection.markReady();
    vi.advanceTimersByTime(1_000);
    vi.advanceTimersByTime(499);
    await ioUntil(() => true, 'a turn');
    expect(reconnects).toHaveLength(0);
    vi.advanceTimersByTime(1);
    await ioUntil(() => reconnects.length === 1, 'the half-dead verdict');
    expect(reconnects[0]).toMatchObject({ attempt: 1, failure: { code: DaemonErrorCode.TIMEOUT } });
    expect(reconnects[0]!.reason).toMatch(/no pong within 500 ms/);
  });

  it('a pong timeout longer than the ping interval still fires: later pings do not restart the wait', async () => {
    const { connection, reconnects } = await pingedConnection(false, {
      pingIntervalMs: 1_000,
      pongTimeoutMs: 2_500,
    });
    await connection.connect();
    connection.markReady();
    // First ping at 1 s; the pong is due by 3.5 s, although pings keep going out at 2 s and 3 s.
    vi.advanceTimersByTime(3_499);
    await ioUntil(() => true, 'a turn');
    expect(reconnects).toHaveLength(0);
    vi.advanceTimersByTime(1);
    await ioUntil(() => reconnects.length === 1, 'the half-dead verdict');
    expect(reconnects[0]).toMatchObject({ attempt: 1, failure: { code: DaemonErrorCode.TIMEOUT } });
    expect(reconnects[0]!.reason).toMatch(/no pong within 2500 ms/);
  });

  it('an answered ping clears the wait: a live upstream with a long pong timeout is never declared half-dead', async () => {
    const { connection, reconnects } = await pingedConnection(true, {
      pingIntervalMs: 1_000,
      pongTimeoutMs: 2_500,
    });
    await connection.connect();
    connection.markReady();
    for (let second = 0; second < 8; second++) {
      vi.advanceTimersByTime(1_000);
      // Let the pong for this ping come back over the real socket before the next step.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      await ioUntil(() => true, 'a turn');
    }
    expect(reconnects).toHaveLength(0);
  });

  it('an upstream that sends data but answers pings late (a pong behind a burst) is not declared half-dead', async () => {
    const { connection, reconnects } = await pingedConnection(false, {
      pingIntervalMs: 1_000,
      pongTimeoutMs: 500,
    });
    let received = 0;
    connection.on('message', () => received++);
    await connection.connect();
    connection.markReady();
    const [peer] = [...server.wss.clients];
    // Every 250 ms a data frame, never a pong: for 5 s (five pings, each of which would time out alone).
    for (let step = 1; step <= 20; step++) {
      peer!.send(JSON.stringify([{ T: 't', n: step }]));
      await ioUntil(() => received === step, `data frame ${step}`);
      vi.advanceTimersByTime(250);
    }
    expect(reconnects).toHaveLength(0);
    // Once the data stops too, the next unanswered ping is the verdict.
    vi.advanceTimersByTime(1_500);
    await ioUntil(() => reconnects.length === 1, 'the half-dead verdict');
    expect(reconnects[0]).toMatchObject({ failure: { code: DaemonErrorCode.TIMEOUT } });
  });

  it('the first connect is not retried: a 429 reaches the opener as RATE_LIMITED with the vendor code', async () => {
    server = new ScriptedServer();
    server.script.push({ status: 429, headers: { 'Retry-After': '5' } });
    const url = await server.listen();
    connection = new UpstreamConnection({ url, pingIntervalMs: 0 });
    await expect(connection.connect()).rejects.toMatchObject({
      name: 'RateLimitedError',
      code: DaemonErrorCode.RATE_LIMITED,
      vendorCode: 429,
      retryAfterMs: 5_000,
    });
    expect(connection.state.kind).toBe('closed');
  });
});
