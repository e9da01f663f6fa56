/**
 * The mock itself: one HTTP server on loopback serving Alpaca's WebSocket endpoints (upgrades) and REST
 * snapshots (plain requests), the sessions, the limits, the feed, and the handle tests use to inspect and inject.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { AccountSession } from './account-session.js';
import type { Encoding } from './codec.js';
import { endpointForPath } from './endpoints.js';
import { InvalidOptionError, ListenError, MockClosedError, WaitTimeoutError } from './errors.js';
import { Feed } from './feed.js';
import { ConnectionRegistry, UpgradeGate } from './limits.js';
import { SyntheticMarket } from './market/index.js';
import { type HeaderCredentials, MarketDataSession } from './market-data-session.js';
import { type AlpacaMockOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { handleRest, type RestAuth } from './rest.js';
import type { AuthOutcome, BaseSession, MockSession, SessionHost } from './session.js';
import type { NanoTime } from './time.js';

/** Narrows which sessions an inspection or injection applies to; every given field must match. */
export interface SessionFilter {
  id?: number;
  /** Endpoint path without leading slash, e.g. `v2/iex`, `v1beta3/crypto/us`, `stream`. */
  endpoint?: string;
  /** Key the session authenticated with (`oauth:<token>` for tokens). */
  key?: string;
  /** Open (not closed) sessions only, or closed ones only. */
  open?: boolean;
  authenticated?: boolean;
}

export interface RestartOptions {
  /** How long the server stays down (upgrades and requests fail to connect). Default 0. */
  downMs?: number;
  /** Destroy sockets without a close frame instead of closing with 1012 (service restart). Default false. */
  abrupt?: boolean;
}

/**
 * A running mock. Events: `'session'` (a new connection, with its MockSession) and `'change'` (anything
 * inspectable happened: auth, subscription, message, close).
 */
export class AlpacaMock extends EventEmitter {
  readonly options: ResolvedOptions;
  /** ws://host:port — append an endpoint path, e.g. `${mock.url}/v2/iex`. */
  url = '';
  /** http://host:port — REST base URL. */
  httpUrl = '';
  port = 0;
  readonly host: string;
  private readonly market: SyntheticMarket;
  private readonly feed: Feed;
  private readonly registry = new ConnectionRegistry(() => this.emit('change'));
  private readonly gate: UpgradeGate;
  private readonly all: BaseSession[] = [];
  private readonly open = new Set<BaseSession>();
  private server: Server | null = null;
  private readonly wss: WebSocketServer;
  private nextId = 1;
  private isClosed = false;
  /** Armed by `refuseAuth`: the code the next market-data auths get, and how many are left. */
  private authRefusal: { code: RefusableAuthCode; remaining: number } | null = null;
  private authsRefused = 0;
  /** A restart in progress; close() waits for it so nothing listens again behind its back. */
  private restarting: Promise<void> | null = null;
  private readonly sessionHost: SessionHost;
  /** Upgrades still to answer with 429 (`rateLimitUpgrades`): each its Retry-After in seconds, or null for none. */
  private readonly upgradeFaults: (number | null)[] = [];

  constructor(options: ResolvedOptions) {
    super();
    // Any number of tests may wait on 'change' at once.
    this.setMaxListeners(0);
    this.options = options;
    this.host = options.host;
    this.market = new SyntheticMarket(options);
    this.gate = new UpgradeGate(options.upgradeRateLimit);
    this.feed = new Feed(
      this.market,
      options,
      {
        marketData: () => this.openOf(MarketDataSession),
        accounts: () => this.openOf(AccountSession),
      },
      () => this.emit('change'),
    );
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: options.perMessageDeflate,
      // Alpaca accepts large subscribe messages (alpaca-py fragments them at 32 KiB); 16 MiB is plenty.
      maxPayload: 16 * 1024 * 1024,
    });
    this.sessionHost = {
      options,
      authenticate: (session, key, secret, scope) => this.authenticate(session, key, secret, scope),
      demandChanged: () => this.feed.wake(),
      changed: () => this.emit('change'),
      closed: (session, abrupt) => this.sessionClosed(session, abrupt),
    };
  }

  private *openOf<T extends BaseSession>(type: abstract new (...args: never[]) => T): Iterable<T> {
    for (const s of this.open) if (s instanceof type) yield s;
  }

  /** @internal */
  async listen(port = this.options.port): Promise<void> {
    const server = createServer((req, res) => handleRest(req, res, this.market, this.restAuth));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new ListenError(this.host, port, error)));
      server.listen(port, this.host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    this.url = `ws://${host}:${this.port}`;
    this.httpUrl = `http://${host}:${this.port}`;
  }

  private readonly restAuth: RestAuth = {
    check: (headers) => {
      const key = headers['apca-api-key-id'];
      const secret = headers['apca-api-secret-key'];
      const bearer = /^Bearer (.+)$/i.exec(String(headers.authorization ?? ''))?.[1];
      if (bearer !== undefined) return this.options.tokens.some((t) => t.token === bearer) ? 'ok' : 'invalid';
      if (key === undefined && secret === undefined) return 'missing';
      return this.options.keys.some((k) => k.key === key && k.secret === secret) ? 'ok' : 'invalid';
    },
  };

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {
      // Clients vanish mid-handshake; that must not crash the mock.
    });
    const endpoint = endpointForPath(req.url ?? '/');
    if (!endpoint) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (this.upgradeFaults.length > 0) {
      const retryAfter = this.upgradeFaults.shift() as number | null;
      rejectUpgrade(socket, 429, 'Too Many Requests', retryAfter);
      this.emit('change');
      return;
    }
    if (!this.gate.admit()) {
      rejectUpgrade(socket, 429, 'Too Many Requests');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.isClosed) {
        ws.terminate();
        return;
      }
      const id = this.nextId++;
      let session: MarketDataSession | AccountSession;
      if (endpoint.kind === 'account') {
        session = new AccountSession(id, endpoint, ws, socket, this.sessionHost);
      } else {
        const encoding: Encoding = /application\/msgpack/i.test(String(req.headers['content-type'] ?? ''))
          ? 'msgpack'
          : 'json';
        const universe = this.market.market(endpoint.market).universe;
        session = new MarketDataSession(
          id,
          endpoint,
          encoding,
          ws,
          socket,
          this.sessionHost,
          (symbols) => symbols.map((s) => this.market.crypto.tape(s).book.snapshot(s)),
          universe,
        );
      }
      this.all.push(session);
      this.open.add(session);
      if (session instanceof AccountSession) session.start();
      else session.start(headerCredentials(req));
      this.emit('session', session);
      this.emit('change');
    });
  }

  private authenticate(
    session: BaseSession,
    key: string,
    secret: string,
    scope: 'data' | 'trading',
  ): AuthOutcome {
    let identity: string;
    if (key === 'oauth' || key === 'access_token') {
      const token = this.options.tokens.find((t) => t.token === secret);
      if (!token) return 402;
      if (!(token.scopes ?? []).includes(scope)) return 411;
      identity = `oauth:${secret}`;
    } else {
      const pair = this.options.keys.find((k) => k.key === key && k.secret === secret);
      if (!pair) return 402;
      if (pair.endpoints && !pair.endpoints.includes(session.endpoint)) return 409;
      identity = key;
    }
    // An armed refusal answers valid credentials too: that is what a re-auth after a drop meets for real.
    if (session.kind === 'market-data' && this.authRefusal) {
      const { code } = this.authRefusal;
      this.authRefusal.remaining -= 1;
      if (this.authRefusal.remaining <= 0) this.authRefusal = null;
      this.authsRefused += 1;
      return code;
    }
    // The account stream is not subject to the market-data connection limit.
    if (
      session.kind === 'market-data' &&
      !this.registry.tryAcquire(session.endpoint, identity, session, this.options.connectionLimit)
    ) {
      return 406;
    }
    session.key = identity;
    session.authenticated = true;
    return 'ok';
  }

  private sessionClosed(session: BaseSession, abrupt: boolean): void {
    this.open.delete(session);
    if (session.authenticated && session.key !== undefined) {
      this.registry.release(session.endpoint, session.key, session, abrupt ? this.options.halfDeadMs : 0);
    }
    // The feed re-checks demand on its next firing and stops by itself when nobody is left.
  }

  // ---------------------------------------------------------------- inspection

  /** Every session the mock has seen (closed ones included, oldest first), optionally filtered. */
  sessions(filter: SessionFilter = {}): MockSession[] {
    return this.all.filter((s) => matches(s, filter));
  }

  /** Open, authenticated sessions: what the connection limit counts (without half-dead holds). */
  sessionCount(filter: Omit<SessionFilter, 'open' | 'authenticated'> = {}): number {
    return this.sessions({ ...filter, open: true, authenticated: true }).length;
  }

  /** Open WebSocket connections, authenticated or not. */
  connectionCount(filter: Omit<SessionFilter, 'open'> = {}): number {
    return this.sessions({ ...filter, open: true }).length;
  }

  /** Slots still held by abruptly dropped sessions (see `halfDeadMs`). */
  halfDeadCount(filter: { endpoint?: string; key?: string } = {}): number {
    return this.registry.heldCount(filter.endpoint, filter.key);
  }

  /** Upgrades answered with HTTP 429 so far. */
  get refusedUpgrades(): number {
    return this.gate.refused;
  }

  /** Market-data auths answered with an armed `refuseAuth` code so far. */
  get refusedAuths(): number {
    return this.authsRefused;
  }

  /** Whether the data timer is running (false whenever nobody is subscribed). */
  get feedRunning(): boolean {
    return this.feed.running;
  }

  /** Market ticks generated so far. */
  get ticks(): number {
    return this.feed.ticks;
  }

  /** The tick (sequence number of the feed) a data message's timestamp belongs to. */
  tickOf(timestamp: NanoTime | string): number {
    return this.market.clock.tickOf(timestamp);
  }

  /**
   * Resolves once `predicate()` holds, re-checking whenever anything inspectable changes. A predicate that throws
   * rejects the wait with its error (it runs inside the mock's own event handlers, where it must not escape).
   */
  waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'a condition'): Promise<void> {
    milliseconds('timeoutMs', timeoutMs);
    return new Promise((resolve, reject) => {
      const check = () => {
        let holds: boolean;
        try {
          holds = predicate();
        } catch (error) {
          cleanup();
          reject(error);
          return;
        }
        if (!holds) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new WaitTimeoutError(what, timeoutMs));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('change', check);
      };
      this.on('change', check);
      check();
    });
  }

  /** Resolves with the first session (existing or future) matching the filter. */
  async waitForSession(filter: SessionFilter = {}, timeoutMs = 5000): Promise<MockSession> {
    let found: MockSession | undefined;
    await this.waitFor(
      () => {
        found = this.sessions(filter)[0];
        return found !== undefined;
      },
      timeoutMs,
      `a session matching ${JSON.stringify(filter)}`,
    );
    return found as MockSession;
  }

  // ---------------------------------------------------------------- injection

  private targets(filter: SessionFilter, what: string): BaseSession[] {
    if (this.isClosed) throw new MockClosedError(what);
    return this.all.filter((s) => !s.closed && matches(s, filter));
  }

  /** Sends `messages` as one frame to every matching open session (arrays on market data). Returns the count. */
  push(messages: readonly unknown[], filter: SessionFilter = {}): number {
    const targets = this.targets(filter, 'push');
    for (const s of targets) s.push(messages);
    return targets.length;
  }

  /** Destroys matching sockets without a close frame (a network drop). Returns the count. */
  drop(filter: SessionFilter = {}): number {
    const targets = this.targets(filter, 'drop');
    for (const s of targets) s.drop();
    return targets.length;
  }

  /** Stops reading from and writing to matching sessions until `resume`. Returns the count. */
  stall(filter: SessionFilter = {}): number {
    const targets = this.targets(filter, 'stall');
    for (const s of targets) s.stall();
    return targets.length;
  }

  resume(filter: SessionFilter = {}): number {
    const targets = this.targets(filter, 'resume');
    for (const s of targets) s.resume();
    return targets.length;
  }

  /** Sends error 407 (slow client) and closes matching sessions. Returns the count. */
  slowClient(filter: SessionFilter = {}): number {
    const targets = this.targets(filter, 'send 407');
    for (const s of targets) s.slowClient();
    return targets.length;
  }

  /** Answers the next `count` WebSocket upgrades with HTTP 429, with `Retry-After: <retryAfterSeconds>` if given. */
  rateLimitUpgrades(count = 1, options: { retryAfterSeconds?: number } = {}): void {
    if (this.isClosed) throw new MockClosedError('rate limit upgrades');
    const retryAfter =
      options.retryAfterSeconds === undefined
        ? null
        : integerCount('retryAfterSeconds', options.retryAfterSeconds);
    for (let k = 0; k < integerCount('count', count); k++) this.upgradeFaults.push(retryAfter);
  }

  /** Refusals still queued by `refuseAuth` and `rateLimitUpgrades`. */
  get pendingFaults(): { auths: number; upgrades: number } {
    return { auths: this.authRefusal?.remaining ?? 0, upgrades: this.upgradeFaults.length };
  }

  /** Answers every WebSocket upgrade with HTTP 429 for `durationMs`. */
  refuseUpgrades(durationMs: number): void {
    if (this.isClosed) throw new MockClosedError('refuse upgrades');
    this.gate.refuseFor(milliseconds('durationMs', durationMs));
  }

  /**
   * Answers the next `count` market-data auths (with valid keys) with `code` instead of success, as Alpaca does to
   * a re-auth after a drop: 406 while it still holds the dead session, 402 when the keys were revoked meanwhile.
   * The socket stays open, as it does on Alpaca. A new call replaces what is left of an earlier one; `count` 0
   * disarms.
   */
  refuseAuth(code: RefusableAuthCode, count = 1): void {
    if (this.isClosed) throw new MockClosedError('refuse auth');
    if (!REFUSABLE_AUTH_CODES.includes(code)) {
      throw new InvalidOptionError('code', `one of ${REFUSABLE_AUTH_CODES.join(', ')}, got ${String(code)}`);
    }
    if (!Number.isInteger(count) || count < 0) {
      throw new InvalidOptionError('count', `an integer >= 0, got ${String(count)}`);
    }
    this.authRefusal = count === 0 ? null : { code, remaining: count };
  }

  /**
   * Simulates a server restart: every connection goes (close 1012, or abruptly), half-dead holds are forgotten,
   * the port stays closed for `downMs`, then listens again on the same port. The market carries on.
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    if (this.isClosed) throw new MockClosedError('restart');
    if (options.downMs !== undefined) milliseconds('downMs', options.downMs);
    this.restarting = this.restartNow(options).finally(() => {
      this.restarting = null;
    });
    return this.restarting;
  }

  private async restartNow(options: RestartOptions): Promise<void> {
    await this.shutdown(options.abrupt ? 'abrupt' : 'restart');
    this.registry.clearHolds();
    if (options.downMs && options.downMs > 0) await new Promise((r) => setTimeout(r, options.downMs));
    // close() while we were down: the mock stays down, with no port and no handles.
    if (this.isClosed) return;
    await this.listen(this.port);
  }

  /**
   * Closes every connection and the server; afterwards the mock holds no timers, sockets or ports. Connections are
   * cut at once by default (fast test teardown); `{ graceful: true }` sends close 1001 (going away) first.
   */
  async close(options: { graceful?: boolean } = {}): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.restarting?.catch(() => {});
    await this.shutdown(options.graceful ? 'going-away' : 'abrupt');
    this.registry.clearHolds();
    this.wss.close();
  }

  private async shutdown(how: 'restart' | 'going-away' | 'abrupt'): Promise<void> {
    this.feed.stop();
    for (const s of [...this.open]) {
      if (how === 'restart') s.close(1012, 'service restart');
      else if (how === 'going-away') s.close(1001, 'going away');
      else s.terminate();
    }
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Sessions closing with a handshake may linger; after a grace period cut them.
      const grace = setTimeout(() => {
        for (const s of [...this.open]) s.terminate();
        server.closeAllConnections();
      }, 200);
      server.once('close', () => clearTimeout(grace));
      server.closeIdleConnections();
    });
    for (const s of [...this.open]) s.terminate();
  }
}

/** The auth answers `refuseAuth` can arm: auth failed, connection limit, insufficient subscription, scope. */
export const REFUSABLE_AUTH_CODES = [402, 406, 409, 411] as const;
export type RefusableAuthCode = (typeof REFUSABLE_AUTH_CODES)[number];

/** A duration argument: a finite number of milliseconds >= 0 (NaN or a string would silently mean "no time"). */
function milliseconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(name, `a finite number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

function headerCredentials(req: IncomingMessage): HeaderCredentials | null {
  const key = req.headers['apca-api-key-id'];
  const secret = req.headers['apca-api-secret-key'];
  if (typeof key === 'string' && typeof secret === 'string') return { key, secret };
  return null;
}

function matches(s: BaseSession, f: SessionFilter): boolean {
  return (
    (f.id === undefined || s.id === f.id) &&
    (f.endpoint === undefined || s.endpoint === f.endpoint.replace(/^\/+/, '')) &&
    (f.key === undefined || s.key === f.key) &&
    (f.open === undefined || f.open === !s.closed) &&
    (f.authenticated === undefined || f.authenticated === s.authenticated)
  );
}

function rejectUpgrade(
  socket: Socket,
  status: number,
  text: string,
  retryAfterSeconds: number | null = null,
): void {
  // Destroy only once the response is flushed: destroying right after end() can discard a write still queued,
  // and the client then sees a reset instead of the 429 it is meant to handle (as ws's own abortHandshake does).
  socket.once('finish', () => socket.destroy());
  const retryAfter = retryAfterSeconds === null ? '' : `Retry-After: ${retryAfterSeconds}\r\n`;
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${retryAfter}Connection: close\r\nContent-Length: 0\r\n\r\n`);
}

function integerCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 1_000_000)
    throw new InvalidOptionError(name, 'an integer from 0 to 1000000');
  return value;
}

/** Starts a mock on loopback and resolves once it listens. See the README for every option. */
export async function startAlpacaMock(options: AlpacaMockOptions = {}): Promise<AlpacaMock> {
  const mock = new AlpacaMock(resolveOptions(options));
  await mock.listen();
  return mock;
}
