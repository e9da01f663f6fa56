import { readFileSync, statSync, unlinkSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import {
  ADAPTER_MODULE_VERSION,
  type ClientRequest,
  type ConnectionEvent,
  DaemonErrorCode,
  type DaemonMessage,
  type DaemonStatus,
  type Hello,
  negotiateVersion,
  SUBSCRIPTION_STATE_VERSION,
  SUPPORTED_VERSIONS,
  VersionMismatchError,
} from '@wsproxy/protocol';
import { RingWriter } from '@wsproxy/shm-queue';
import type { Logger } from 'pino';
import { passthrough, type SubscribeResult, type UpstreamAdapterFactory } from './adapter.js';
import { AdapterCatalog } from './adapter-catalog.js';
import { ClientRegistry } from './client-registry.js';
import { ClientSession } from './client-session.js';
import { bindDaemonSocket } from './daemon-socket.js';
import { LocalEndpoint, type LocalEndpointOptions } from './endpoint/local-endpoint.js';
import { AdapterLoadError, InvalidArgumentError, NotSupportedError, WsproxyServerError } from './errors.js';
import {
  type ControlLimits,
  type DialLimits,
  type ResolvedControlLimits,
  resolveControlLimits,
} from './limits.js';
import { createDaemonLogger, type DaemonLogger, type LogLevel } from './logging.js';
import { loadPromClient } from './observability/daemon-metrics.js';
import { MetricsServer, ObservabilityRoutes } from './observability/observability-server.js';
import { fitMessage } from './peer-text.js';
import { removeOrphanSegments, ringScope, ringSegmentName } from './ring-segments.js';
import { RingPublisher } from './routing/ring-publisher.js';
import {
  DEFAULT_NAMESPACE,
  ensureRuntimeDir,
  type RuntimePaths,
  runtimeDirFor,
  runtimePaths,
} from './runtime-dir.js';
import { capStatus, statusReport } from './status-report.js';
import { failureOf } from './upstream/upstream-failure.js';
import type { UpstreamDefaults } from './upstream/upstream-registry.js';
import { type SharedUpstream, UpstreamRegistry } from './upstream/upstream-registry.js';

export interface RingOptions {
  /** Bytes of the shared data ring (power of two). Default 32 MiB: room for a 16 MiB message in flight. */
  readonly capacityBytes?: number;
  /** Most clients at once. Default 64. */
  readonly maxClients?: number;
  /** Largest ring record; bigger messages are fragmented. Default 256 KiB. */
  readonly maxRecordBytes?: number;
}

export interface DaemonOptions {
  readonly namespace?: string;
  /** Default: `runtimeDirFor(process.env)`. */
  readonly runtimeDir?: string;
  /**
   * Stay this long after the last client left before exiting: 0 to `MAX_TIMER_MS`, or `Infinity` to never exit by
   * itself (under a service manager). Default 5000 ms.
   */
  readonly lingerMs?: number;
  readonly logLevel?: LogLevel;
  /** The log file is rotated to `<log>.1` past this many bytes (default 8 MiB, at least 4096). */
  readonly logMaxBytes?: number;
  readonly ring?: RingOptions;
  /** Keepalive, reconnect and TLS settings for every upstream. */
  readonly upstream?: UpstreamDefaults;
  /** Adapters besides the built-in `passthrough`. */
  readonly adapters?: readonly UpstreamAdapterFactory[];
  /**
   * Modules to load adapters from before serving (what `wsproxy start --adapter` gives): absolute paths, paths
   * relative to the current folder, or package specifiers. Clients may also name a module in `open`
   * (`adapterModule`): the daemon then loads it on demand.
   */
  readonly adapterModules?: readonly string[];
  /** Serve the drop-in endpoint (off unless given); its protocol comes from the first adapter offering one. */
  readonly endpoint?: LocalEndpointOptions;
  /**
   * Serve `/metrics` (Prometheus), `/healthz` and `/readyz` over HTTP here (off unless given; port 0 picks one).
   * With the endpoint on, its port serves them too.
   */
  readonly metrics?: { readonly host: string; readonly port: number };
  /** Bounds on control connections (pre-hello, queued bytes, status size, idle slots): docs/limits.md. */
  readonly limits?: ControlLimits;
  /** Bounds on upstream dials (per account and in all, per minute) and how long refused credentials stay refused. */
  readonly dials?: DialLimits;
}

const DEFAULT_LINGER_MS = 5_000;
/** Node's timers hold a signed 32-bit millisecond count; a longer delay fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** A freshly spawned daemon waits at least this long for its spawner to connect, whatever the linger. */
const STARTUP_GRACE_MS = 3_000;

export function packageVersion(): string {
  try {
    const url = new URL('../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/**
 * The adapter whose protocol the endpoint speaks when none was given: Alpaca's, the one we ship. `wsproxy start
 * --listen 8765` then works as the README writes it wherever the adapter is installed (beside the daemon, or in the
 * project the command runs in: the catalogue's usual rules).
 */
const DEFAULT_ENDPOINT_ADAPTER = '@wsproxy/alpaca-adapter/daemon';

async function ensureEndpointAdapter(adapters: AdapterCatalog): Promise<void> {
  if ([...adapters.factories.values()].some((adapter) => adapter.endpoint)) return;
  try {
    await adapters.preload(DEFAULT_ENDPOINT_ADAPTER);
  } catch (error) {
    throw new InvalidArgumentError(
      `the endpoint (--listen) needs an adapter that serves one, and ${DEFAULT_ENDPOINT_ADAPTER} could not be loaded (${(error as Error).message}). Install it beside @wsproxy/proxy-server (npm install @wsproxy/alpaca-adapter), or name one with --adapter <module>`,
    );
  }
}

/**
 * The socket file's inode, read with a bigint stat ON PURPOSE: Node's `realpathSync` (used by module resolution)
 * looks at the shared result array of the last plain `statSync` to stop at sockets and pipes, so a plain stat of our
 * socket made every later resolution through a cached folder return the unresolved path. In a pnpm install that
 * broke loading any package with dependencies afterwards (adapters loaded on demand, prom-client for --metrics).
 */
function socketInode(path: string): bigint {
  return statSync(path, { bigint: true }).ino;
}

function lingerDelay(value: number): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  if (!Number.isInteger(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `lingerMs must be a whole number from 0 to ${MAX_TIMER_MS}, or Infinity (never exit); got ${String(value)}`,
    );
  }
  return value;
}

function errorAnswer(requestId: number, error: unknown): DaemonMessage {
  // Our errors, and an adapter's typed ones (a catalogue `code`, the vendor's `vendorCode`), keep both; anything else
  // is a bug. The message may quote what the peer sent: it must still fit the wire's string limit.
  const { code, message, vendorCode } = failureOf(error);
  return {
    type: 'error',
    requestId,
    code,
    message: fitMessage(message),
    ...(vendorCode === undefined ? {} : { vendorCode }),
  };
}

/**
 * The wsproxy daemon: one per user and namespace. Owns the Unix socket, the shared ring, the upstream connections,
 * and exits by itself when nobody has needed it for `lingerMs`.
 */
export class Daemon {
  readonly paths: RuntimePaths;
  readonly namespace: string;
  readonly version = packageVersion();
  private readonly lingerMs: number;
  private readonly log: DaemonLogger;
  private readonly logger: Logger;
  private readonly clients: ClientRegistry;
  private readonly upstreams: UpstreamRegistry;
  private readonly ringOptions: RingOptions;
  // Created only once this daemon has won the socket: racing losers never touch shared memory.
  private ring!: RingWriter;
  private publisher!: RingPublisher;
  private server: Server | undefined;
  /** The drop-in endpoint, when asked for: its connections are clients too (ids from FIRST_ENDPOINT_CLIENT_ID). */
  endpoint: LocalEndpoint | undefined;
  /** `/metrics`, `/healthz`, `/readyz`: when metrics or the endpoint are on. */
  private observability: ObservabilityRoutes | undefined;
  /** The `--metrics` listener, when asked for. */
  metricsServer: MetricsServer | undefined;
  /** Every adapter this daemon can open with; grows when an open names a module not loaded yet. */
  private readonly adapters: AdapterCatalog;
  private socketInode = 0n;
  private lingerTimer: NodeJS.Timeout | undefined;
  private shuttingDown: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  /** Per upstream that is down: since when, and the latest retry attempt (for the `reconnected` event). */
  private readonly outages = new Map<number, { since: number; attempt: number }>();
  private readonly limits: ResolvedControlLimits;
  /** Control connections that have not said hello yet (bounded by `limits.maxPreHelloConnections`). */
  private readonly preHello = new Set<ClientSession>();
  private resolveStopped!: () => void;
  /** Resolves once the daemon has shut down and released everything. */
  readonly stopped = new Promise<void>((resolve) => {
    this.resolveStopped = resolve;
  });

  private constructor(options: DaemonOptions, adapters: AdapterCatalog) {
    this.namespace = options.namespace ?? DEFAULT_NAMESPACE;
    this.paths = runtimePaths(this.namespace, options.runtimeDir ?? runtimeDirFor());
    this.lingerMs = lingerDelay(options.lingerMs ?? DEFAULT_LINGER_MS);
    this.limits = resolveControlLimits(options.limits);
    ensureRuntimeDir(this.paths.dir);
    this.log = createDaemonLogger({
      file: this.paths.logPath,
      level: options.logLevel ?? 'info',
      maxBytes: options.logMaxBytes,
    });
    this.logger = this.log.logger.child({ namespace: this.namespace });

    this.ringOptions = options.ring ?? {};
    this.clients = new ClientRegistry(this.ringOptions.maxClients ?? 64);

    this.adapters = adapters;
    adapters.logger = this.logger;
    this.upstreams = new UpstreamRegistry({
      adapters: this.adapters.factories,
      logger: this.logger,
      defaults: options.upstream,
      dials: options.dials,
      observer: {
        deliver: (upstream, recipients, data, isBinary) => {
          const endpoint = this.endpoint?.size ? this.endpoint : undefined;
          // `everyone()` may be a one-shot iterator: copy it only when the endpoint must read it too.
          const to =
            recipients !== 'all' ? recipients : endpoint ? [...upstream.everyone()] : upstream.everyone();
          this.publisher.publish(upstream.id, to, data, isBinary);
          endpoint?.deliver(to, data, isBinary);
        },
        reconnecting: (upstream, { attempt, delayMs, reason, failure }) => {
          const outage = this.outages.get(upstream.id);
          if (outage) outage.attempt = attempt;
          else this.outages.set(upstream.id, { since: Date.now(), attempt });
          // A plain drop is said by `reconnecting` alone; a refusal (402, 406, 429, no pong) also as a typed error,
          // every time, so a strategy waiting through a long outage knows why and that it is still being tried.
          if (failure.code !== DaemonErrorCode.UPSTREAM_CLOSED) {
            this.tellMembers(upstream, {
              kind: 'error',
              connectionId: upstream.id,
              code: failure.code,
              message: `${failure.message}; retrying in ${delayMs} ms (attempt ${attempt})`,
              ...(failure.vendorCode === undefined ? {} : { vendorCode: failure.vendorCode }),
            });
          }
          this.tellMembers(upstream, {
            kind: 'reconnecting',
            connectionId: upstream.id,
            attempt,
            delayMs,
            reason,
          });
          this.endpoint?.upstreamDropped(upstream);
        },
        reconnected: (upstream) => {
          const outage = this.outages.get(upstream.id) ?? { since: Date.now(), attempt: 1 };
          this.outages.delete(upstream.id);
          this.tellMembers(upstream, {
            kind: 'reconnected',
            connectionId: upstream.id,
            attempt: outage.attempt,
            downtimeMs: Math.min(0xffff_ffff, Date.now() - outage.since),
          });
        },
        frameDropped: (upstream, bytes) => {
          // A loss like any other: a gap, counted in status, never an error event that vanishes unheard.
          for (const id of upstream.members.keys()) {
            const session = this.clients.get(id);
            if (!session) continue;
            session.stats.droppedMessages += 1;
            session.send({
              type: 'event',
              event: { kind: 'gap', connectionId: upstream.id, lostMessages: 1, lostBytes: bytes },
            });
          }
        },
        closed: (upstream, info) => {
          this.outages.delete(upstream.id);
          this.publisher.forget(upstream.id);
          this.endpoint?.upstreamClosed(upstream);
          const code = info.code >= 1000 && info.code <= 4999 ? info.code : 1006;
          // Not closed by us (the last client leaving, shutdown): the daemon gave up on it.
          if (code !== 1000 && code !== 1001) {
            this.tellMembers(upstream, {
              kind: 'error',
              connectionId: upstream.id,
              code: DaemonErrorCode.UPSTREAM_CLOSED,
              message: `the upstream connection closed for good: ${info.reason}`,
              vendorCode: code,
            });
          }
          this.tellMembers(upstream, {
            kind: 'closed',
            connectionId: upstream.id,
            code,
            reason: info.reason,
          });
          for (const id of upstream.members.keys()) this.clients.get(id)?.connections.delete(upstream.id);
        },
      },
    });
  }

  /** Creates the daemon and binds its socket. Throws `DaemonAlreadyRunningError` when another one serves. */
  static async start(options: DaemonOptions = {}): Promise<Daemon> {
    // First of all (no log file, no socket yet): a daemon asked for an adapter it cannot load must not start.
    const adapters = new AdapterCatalog();
    adapters.add(options.adapters ?? []);
    for (const module of options.adapterModules ?? []) await adapters.preload(module);
    if (options.endpoint) await ensureEndpointAdapter(adapters);
    const daemon = new Daemon(options, adapters);
    try {
      daemon.server = await bindDaemonSocket(daemon.paths, (socket) => daemon.accept(socket));
    } catch (error) {
      await daemon.log.settled();
      throw error;
    }
    daemon.socketInode = socketInode(daemon.paths.socketPath);
    // No await between binding and this: connections are served from the next event-loop turn on.
    try {
      daemon.openRing();
    } catch (error) {
      daemon.server.close();
      daemon.removeSocketFile();
      await daemon.log.settled();
      throw error;
    }
    if (options.metrics || options.endpoint) {
      try {
        await daemon.startObservability(options.metrics);
      } catch (error) {
        await daemon.shutdown('the metrics listener could not start');
        throw error;
      }
    }
    if (options.endpoint) {
      // A port in use or a bad option: release what we hold (socket, ring) and say why.
      await daemon.startEndpoint(options.endpoint).catch(async (error: unknown) => {
        await daemon.shutdown('the endpoint could not start');
        throw error;
      });
    }
    daemon.logger.info(
      {
        version: daemon.version,
        socket: daemon.paths.socketPath,
        ring: daemon.ring.name,
        adapters: daemon.adapters.list(),
        ...(daemon.metricsServer ? { metrics: daemon.metricsServer.url } : {}),
      },
      'daemon started',
    );
    daemon.scheduleLinger(Math.max(daemon.lingerMs, STARTUP_GRACE_MS));
    return daemon;
  }

  private openRing(): void {
    const scope = ringScope(this.paths.dir, this.namespace);
    const orphans = removeOrphanSegments(scope);
    if (orphans.length > 0) this.logger.info({ segments: orphans }, 'removed segments of a dead daemon');
    const capacity = this.ringOptions.capacityBytes ?? 32 * 1024 * 1024;
    this.ring = RingWriter.create({
      name: ringSegmentName(scope),
      capacity,
      maxReaders: this.ringOptions.maxClients ?? 64,
      // The ring keeps at least four records' room (a record alone must never lap a reader); its header is 16 bytes.
      maxRecordSize: Math.min(this.ringOptions.maxRecordBytes ?? 256 * 1024, capacity / 4 - 16),
      onWake: (slot) => this.clients.atSlot(slot)?.ringDoorbell(),
    });
    this.publisher = new RingPublisher(this.ring, this.clients);
  }

  get ringName(): string {
    return this.ring.name;
  }

  /** A bug escaped: say so in the log, then release everything as in a clean shutdown (clients will respawn us). */
  crash(error: unknown): Promise<void> {
    this.logger.fatal({ err: error }, 'daemon crashed');
    return this.shutdown('crash');
  }

  /** Closes every upstream (1001: going away), disconnects clients, removes the ring and the socket. */
  shutdown(reason = 'shutdown'): Promise<void> {
    this.shuttingDown ??= this.doShutdown(reason);
    return this.shuttingDown;
  }

  private async doShutdown(reason: string): Promise<void> {
    this.logger.info({ reason }, 'daemon shutting down');
    clearTimeout(this.lingerTimer);
    this.server?.close();
    await this.endpoint?.close();
    await this.metricsServer?.close();
    this.removeSocketFile();
    for (const session of [...this.clients.all()]) session.close();
    await this.upstreams.closeAll(1001, 'wsproxy daemon shutting down');
    this.ring.close({ unlink: true });
    await this.log.settled();
    this.resolveStopped();
  }

  private removeSocketFile(): void {
    // Only our own socket: after a stale-socket takeover the path may already belong to a newer daemon.
    try {
      if (socketInode(this.paths.socketPath) === this.socketInode) unlinkSync(this.paths.socketPath);
    } catch {
      // Already gone.
    }
  }

  private accept(socket: Socket): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    const session = new ClientSession(
      socket,
      {
        hello: (session, hello) => {
          this.preHello.delete(session);
          return this.onHello(session, hello);
        },
        probe: (request) => ({
          type: 'statusReport',
          requestId: request.requestId,
          status: capStatus(this.status(), this.limits.maxStatusBytes),
        }),
        request: (session, request) => this.onRequest(session, request),
        closed: (session) => {
          this.preHello.delete(session);
          this.onClientGone(session);
        },
      },
      this.logger,
      this.limits,
    );
    if (this.preHello.size >= this.limits.maxPreHelloConnections) {
      this.logger.warn({ waiting: this.preHello.size }, 'too many connections without hello; refusing one');
      session.close({
        code: DaemonErrorCode.TOO_MANY_CONNECTIONS,
        message: `${this.preHello.size} connections are already waiting to say hello (maxPreHelloConnections)`,
      });
      return;
    }
    this.preHello.add(session);
  }

  private onHello(session: ClientSession, hello: Hello): DaemonMessage {
    const refuse = (code: string, message: string): DaemonMessage => ({
      type: 'refused',
      code,
      message,
      minVersion: SUPPORTED_VERSIONS.min,
      maxVersion: SUPPORTED_VERSIONS.max,
    });
    let version: number;
    try {
      version = negotiateVersion({ min: hello.minVersion, max: hello.maxVersion });
    } catch (error) {
      const code = error instanceof VersionMismatchError ? error.code : DaemonErrorCode.PROTOCOL;
      return refuse(code, (error as Error).message);
    }
    if (this.shuttingDown) return refuse(DaemonErrorCode.SHUTTING_DOWN, 'the daemon is shutting down');
    if (!this.clients.admit(session) && !(this.evictIdleClient() && this.clients.admit(session))) {
      return refuse(DaemonErrorCode.TOO_MANY_CLIENTS, `all ${this.ring.maxReaders} client slots are taken`);
    }
    session.name = hello.clientName;
    session.pid = hello.clientPid;
    session.version = version;
    clearTimeout(this.lingerTimer);
    this.logger.info({ client: session.id, name: session.name, clientPid: session.pid }, 'client connected');
    return {
      type: 'welcome',
      version,
      clientId: session.id,
      daemonPid: process.pid,
      daemonVersion: this.version,
      ringName: this.ring.name,
      readerSlot: session.readerSlot,
    };
  }

  /**
   * Every reader slot is taken: the client idle longest (no open connection, no request for `idleClientMs`) gives
   * its slot up, and hears why. Checked only here, on a full house, so an idle daemon runs no timer for it.
   */
  private evictIdleClient(): boolean {
    const now = Date.now();
    let idlest: ClientSession | undefined;
    for (const client of this.clients.all()) {
      if (client.connections.size > 0 || now - client.lastRequestAt < this.limits.idleClientMs) continue;
      if (!idlest || client.lastRequestAt < idlest.lastRequestAt) idlest = client;
    }
    if (!idlest) return false;
    this.logger.warn(
      { client: idlest.id, clientPid: idlest.pid },
      'every slot taken: closing an idle client',
    );
    idlest.close({
      code: DaemonErrorCode.IDLE_TIMEOUT,
      message: `every reader slot was taken and this client had opened nothing for ${this.limits.idleClientMs} ms`,
    });
    this.onClientGone(idlest);
    return true;
  }

  private onClientGone(session: ClientSession): void {
    if (!this.clients.remove(session)) return;
    this.logger.info({ client: session.id, clientPid: session.pid }, 'client disconnected');
    // The client's reader slot must be free before another client is given the same slot number.
    if (!this.ring.closed) this.ring.releaseReader(session.readerSlot);
    this.upstreams.releaseClient(session.id).catch((error: unknown) => {
      this.logger.error({ err: error }, 'releasing a client failed');
    });
    this.scheduleLinger();
  }

  private async startEndpoint(options: LocalEndpointOptions): Promise<void> {
    // Adapters given at start only (objects first, then --adapter modules): the endpoint is chosen once.
    const protocol = [...this.adapters.factories.values()].find((adapter) => adapter.endpoint)?.endpoint;
    if (!protocol) {
      throw new InvalidArgumentError(
        'the endpoint needs an adapter that serves one (e.g. --adapter @wsproxy/alpaca-adapter/daemon)',
      );
    }
    this.endpoint = await LocalEndpoint.start(options, {
      upstreams: this.upstreams,
      logger: this.logger,
      protocol,
      activity: () => {
        if (this.endpoint?.awaited) clearTimeout(this.lingerTimer);
        else this.scheduleLinger();
      },
      httpRequest: (request, response, authorized) =>
        this.observability?.handle(request, response, authorized) ?? false,
    });
  }

  private async startObservability(metrics: DaemonOptions['metrics']): Promise<void> {
    // Only with metrics asked for: a daemon without them never loads prom-client.
    const prom = metrics ? await loadPromClient() : undefined;
    this.observability = ObservabilityRoutes.create(() => this.status(), this.logger, prom);
    if (metrics)
      this.metricsServer = await MetricsServer.start(metrics.host, metrics.port, this.observability);
  }

  /**
   * Shared-memory clients and endpoint connections alike keep the daemon alive, and so do endpoint connections we
   * closed ourselves for an upstream redial until they are back: they are not "nobody left".
   */
  private get clientCount(): number {
    return this.clients.size + (this.endpoint?.awaited ?? 0);
  }

  private scheduleLinger(delayMs = this.lingerMs): void {
    // `--linger never`: only a signal or `wsproxy stop` ends this daemon.
    if (this.clientCount > 0 || this.shuttingDown || this.lingerMs === Number.POSITIVE_INFINITY) return;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = setTimeout(() => {
      if (this.clientCount === 0) void this.shutdown('no clients left');
    }, delayMs);
  }

  private tellMembers(upstream: SharedUpstream, event: ConnectionEvent): void {
    for (const id of upstream.members.keys()) this.clients.get(id)?.send({ type: 'event', event });
  }

  private memberUpstream(session: ClientSession, connectionId: number): SharedUpstream {
    const upstream = session.connections.has(connectionId) ? this.upstreams.get(connectionId) : undefined;
    if (!upstream) {
      throw new WsproxyServerError(
        DaemonErrorCode.UNKNOWN_CONNECTION,
        `connection ${connectionId} is not open for this client`,
      );
    }
    return upstream;
  }

  private onRequest(session: ClientSession, request: ClientRequest): Promise<void> {
    return (
      this.handle(session, request)
        .then(
          (answer) => session.send(answer),
          (error: unknown) => {
            if (!(error instanceof WsproxyServerError))
              this.logger.error({ err: error, request: request.type }, 'request failed');
            session.send(errorAnswer(request.requestId, error));
          },
        )
        // `send` never throws; should a bug prove otherwise, it costs this request, not every client's daemon.
        .catch((error: unknown) =>
          this.logger.error({ err: error, request: request.type }, 'answering failed'),
        )
    );
  }

  private async handle(session: ClientSession, request: ClientRequest): Promise<DaemonMessage> {
    const { requestId } = request;
    switch (request.type) {
      case 'open': {
        const headers: Record<string, string> = {};
        for (const [name, value] of request.headers) {
          headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
        }
        const adapter = request.adapter || passthrough.name;
        if (request.adapterModule) await this.loadForOpen(session, request.adapter, request.adapterModule);
        const { upstream, isNew } = await this.upstreams.open(session.id, {
          url: request.url,
          headers,
          credentials: request.credentials,
          adapter,
        });
        if (session.closed) {
          // The client died while we were connecting for it.
          await this.upstreams.release(session.id, upstream);
          return { type: 'ok', requestId };
        }
        session.connections.add(upstream.id);
        this.logger.info({ client: session.id, upstream: upstream.id, isNew }, 'client joined upstream');
        return { type: 'opened', requestId, connectionId: upstream.id, isNew };
      }
      case 'close': {
        if (request.connectionId !== 'all') {
          const upstream = this.memberUpstream(session, request.connectionId);
          await this.upstreams.release(session.id, upstream);
          if (!upstream.members.has(session.id)) session.connections.delete(upstream.id);
          return { type: 'ok', requestId };
        }
        const all = [...session.connections].map((id) => this.upstreams.get(id));
        session.connections.clear();
        await Promise.all(
          all.map((upstream) => upstream && this.upstreams.release(session.id, upstream, true)),
        );
        return { type: 'ok', requestId };
      }
      case 'send': {
        const upstream = this.memberUpstream(session, request.connectionId);
        const frame = { data: Buffer.from(request.payload), isBinary: request.binary };
        if (upstream.adapter.onClientFrame) {
          upstream.adapter.onClientFrame(session.id, frame);
        } else if (!upstream.connection.send(frame.data, frame.isBinary)) {
          throw new WsproxyServerError(
            DaemonErrorCode.SEND_FAILED,
            `connection ${upstream.id} is not open upstream`,
          );
        }
        return { type: 'ok', requestId };
      }
      case 'subscribe': {
        const upstream = this.memberUpstream(session, request.connectionId);
        if (!upstream.adapter.subscribe) throw this.notSupported(upstream, 'subscribe');
        const result = await upstream.adapter.subscribe(session.id, Buffer.from(request.params));
        return this.subscribedAnswer(session, requestId, result);
      }
      case 'unsubscribe': {
        const upstream = this.memberUpstream(session, request.connectionId);
        if (!upstream.adapter.unsubscribe) throw this.notSupported(upstream, 'unsubscribe');
        const result = await upstream.adapter.unsubscribe(session.id, Buffer.from(request.params));
        return {
          type: 'unsubscribed',
          requestId,
          stillSubscribed: result.stillSubscribed,
          reply: result.reply ?? new Uint8Array(0),
          ...this.stateFor(session, result.state),
        };
      }
      case 'restore': {
        if (session.version < SUBSCRIPTION_STATE_VERSION) {
          throw new NotSupportedError(
            `restore needs protocol version ${SUBSCRIPTION_STATE_VERSION}; this connection negotiated ${session.version}`,
          );
        }
        const upstream = this.memberUpstream(session, request.connectionId);
        if (!upstream.adapter.restore) throw this.notSupported(upstream, 'restore');
        const result = await upstream.adapter.restore(session.id, Buffer.from(request.state));
        return this.subscribedAnswer(session, requestId, result);
      }
      case 'setLogLevel':
        this.log.setLevel(request.level);
        return { type: 'ok', requestId };
      case 'status':
        return {
          type: 'statusReport',
          requestId,
          status: capStatus(this.status(), this.limits.maxStatusBytes),
        };
    }
  }

  /**
   * An open that names its adapter's module (protocol version 2): load it unless an adapter of that name is loaded
   * already. A failure is this requester's `AdapterLoadError` (or `NotSupportedError`); nobody else notices.
   */
  private async loadForOpen(session: ClientSession, adapter: string, module: string): Promise<void> {
    if (session.version < ADAPTER_MODULE_VERSION) {
      throw new NotSupportedError(
        `adapterModule needs protocol version ${ADAPTER_MODULE_VERSION}; this connection negotiated ${session.version}`,
      );
    }
    if (adapter === '') {
      throw new AdapterLoadError(
        module,
        'name the adapter to open (adapterModule is only where to load it from)',
      );
    }
    await this.adapters.ensure(adapter, module);
  }

  /** The answer to a subscribe, and to a restore: both report the same fields. */
  private subscribedAnswer(
    session: ClientSession,
    requestId: number,
    result: SubscribeResult,
  ): DaemonMessage {
    return {
      type: 'subscribed',
      requestId,
      alreadySubscribed: result.alreadySubscribed,
      reply: result.reply ?? new Uint8Array(0),
      ...this.stateFor(session, result.state),
    };
  }

  /** The acknowledged state travels only to clients that can read it (protocol version 3 on). */
  private stateFor(session: ClientSession, state: Uint8Array | undefined): { state?: Uint8Array } {
    return state && session.version >= SUBSCRIPTION_STATE_VERSION ? { state } : {};
  }

  private notSupported(upstream: SharedUpstream, what: string): WsproxyServerError {
    return new WsproxyServerError(
      DaemonErrorCode.NOT_SUPPORTED,
      `the ${upstream.adapterName} adapter of connection ${upstream.id} does not support ${what}`,
    );
  }

  status(): DaemonStatus {
    return statusReport({
      pid: process.pid,
      version: this.version,
      startedAt: this.startedAt,
      logLevel: this.logger.level,
      ring: this.ring,
      clients: [...this.clients.all()],
      upstreams: [...this.upstreams.all()],
      adapters: this.adapters.list(),
      endpoint: this.endpoint?.status(),
    });
  }
}
