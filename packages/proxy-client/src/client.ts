import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ADAPTER_MODULE_VERSION,
  type ConnectionEvent,
  DaemonErrorCode,
  type DaemonStatus,
  FragmentAssembler,
  type LogLevel,
  type RingRecord,
  SUBSCRIPTION_STATE_VERSION,
  type Welcome,
} from '@wsproxy/protocol';
import { type RuntimePaths, runtimePaths, validateUpstreamUrl } from '@wsproxy/proxy-server';
import type { IdleChange, IdleDegradeReason, IdleStrategy } from '@wsproxy/shm-queue';
import { ControlChannel } from './control-channel.js';
import { BadUrlError, daemonError } from './daemon-errors.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { connectToDaemon } from './discovery.js';
import {
  ClosedError,
  DaemonDisconnectedError,
  HandshakeRefusedError,
  InvalidArgumentError,
  WsproxyClientError,
} from './errors.js';
import {
  type ConnectOptions,
  checkOpenOptions,
  type OpenOptions,
  type ResolvedConnectOptions,
  resolveConnectOptions,
  resolveOpenHeaders,
} from './options.js';
import { RingConsumer } from './ring-consumer.js';
import {
  type OpenSpec,
  type RestoredSubscriptions,
  SharedSocket,
  type SocketFragment,
  type SocketMessage,
  type SocketOwner,
  type SubscribeAnswer,
  type UnsubscribeAnswer,
} from './shared-socket.js';

export type ClientState = 'connected' | 'recovering' | 'closed';

export interface WsproxyClientEvents {
  /** The daemon went away (crash, kill, stop). With `recover`, recovery starts at once. */
  disconnected: [error: WsproxyClientError];
  /**
   * Recovered: a (possibly new) daemon serves us again and every socket was reopened with its acknowledged
   * subscriptions. Upstream data between `lostFrom` and `lostUntil` was not delivered to any socket (each socket's
   * own `reconnected` event says when data flowed again for it).
   */
  reconnected: [info: ClientReconnectedInfo];
  /**
   * `idle: 'spin'` or `'backoff'` only: the data reader stepped down to `block` by itself (`reason`
   * `oversubscribed`: more clients of this daemon spin than the machine has cores to spare; `preempted`: the
   * kernel kept descheduling it while it spun), or went back to the requested strategy (`reason` undefined).
   */
  idle: [change: IdleChange];
}

export interface ClientReconnectedInfo {
  readonly daemonPid: number;
  readonly attempt: number;
  readonly downtimeMs: number;
  /** `Date.now()` when the daemon was lost, and when the last socket was reopened. */
  readonly lostFrom: number;
  readonly lostUntil: number;
  /** Ids of the sockets reopened (a socket that could not be reopened is closed, with an `error` before). */
  readonly sockets: readonly number[];
}

/** What one ring record hands to the sockets of its connection. */
interface Delivery {
  readonly fragment: SocketFragment | undefined;
  readonly message: SocketMessage | undefined;
}

/** Everything that belongs to one daemon connection: replaced as a whole after a daemon restart. */
interface Attachment {
  readonly channel: ControlChannel;
  readonly consumer: RingConsumer;
  readonly welcome: Welcome;
}

/**
 * A strategy's link to the wsproxy daemon. Opens shared sockets, and reads their data from shared memory.
 * Create it with `connect()`.
 */
export class WsproxyClient extends EventEmitter<WsproxyClientEvents> implements SocketOwner {
  readonly namespace: string;
  readonly paths: RuntimePaths;
  private readonly options: ResolvedConnectOptions;
  private attachment!: Attachment;
  private currentState: ClientState = 'connected';
  private readonly sockets = new Set<SharedSocket>();
  private readonly byConnection = new Map<number, Set<SharedSocket>>();
  /** Counts messages read and reported lost, so that a lap is reported in messages (one per daemon connection). */
  private ledger = new DeliveryLedger();
  /** Puts fragmented messages back together; a message missing a piece is reported as a gap on its sockets. */
  private assembler = this.newAssembler();
  private nextSocketId = 1;
  /**
   * Data that arrived for a connection before the open's answer did (the ring and the socket race, and a server may
   * greet on connect): kept while opens are in flight, handed to the socket when the open completes.
   */
  private readonly unclaimed = new Map<number, Delivery[]>();
  private unclaimedCount = 0;
  private opensInFlight = 0;

  private constructor(options: ResolvedConnectOptions) {
    super();
    this.options = options;
    this.namespace = options.namespace;
    this.paths = runtimePaths(options.namespace, options.runtimeDir);
  }

  /** @internal use `connect()` */
  static async create(options: ConnectOptions = {}): Promise<WsproxyClient> {
    const client = new WsproxyClient(resolveConnectOptions(options));
    const deadline = Date.now() + client.options.connectTimeoutMs;
    for (;;) {
      try {
        client.attachment = await client.attach();
        return client;
      } catch (error) {
        // We reached a daemon in the moment it was exiting (its linger ran out): start or find the next one.
        const exiting =
          error instanceof DaemonDisconnectedError ||
          (error instanceof HandshakeRefusedError && error.code === DaemonErrorCode.SHUTTING_DOWN);
        if (!exiting || Date.now() > deadline) throw error;
        await sleep(20);
      }
    }
  }

  get state(): ClientState {
    return this.currentState;
  }

  /** The pid of the daemon serving this client right now. */
  get daemonPid(): number {
    return this.attachment.welcome.daemonPid;
  }

  /**
   * How the data reader waits right now: the `idle` option, or `block` while degraded (see `idleDegraded` and the
   * `idle` event). A reader decides when it first waits, which can be before `connect()` resolves: read this
   * getter for the state, listen to `idle` for the changes after.
   */
  get effectiveIdle(): IdleStrategy {
    return this.attachment.consumer.effectiveIdle;
  }

  /** Why a `spin`/`backoff` client blocks instead, or undefined when it waits as asked. */
  get idleDegraded(): IdleDegradeReason | undefined {
    return this.attachment.consumer.idleDegraded;
  }

  get daemonVersion(): string {
    return this.attachment.welcome.daemonVersion;
  }

  /** The daemon's id for this client (shown by `wsproxy status`). */
  get clientId(): number {
    return this.attachment.welcome.clientId;
  }

  /**
   * Opens (or joins) the shared upstream connection for `url` and these credentials. Resolves once the upstream is
   * ready; rejects with a typed error (`BadUrlError`, `UpstreamUnreachableError`, `CredentialsMismatchError`, ...).
   */
  async open(url: string, options: OpenOptions = {}): Promise<SharedSocket> {
    this.assertUsable();
    try {
      validateUpstreamUrl(url);
    } catch (error) {
      throw new BadUrlError((error as Error).message);
    }
    checkOpenOptions(options);
    const spec: OpenSpec = {
      url,
      headers: resolveOpenHeaders(options),
      credentials: options.credentials
        ? { key: options.credentials.key, secret: options.credentials.secret }
        : null,
      adapter: options.adapter ?? '',
      adapterModule: options.adapterModule ?? '',
    };
    this.opensInFlight += 1;
    let socket: SharedSocket;
    try {
      const { connectionId, isNew } = await this.openOnDaemon(spec);
      socket = new SharedSocket(this, this.nextSocketId++, connectionId, isNew, spec);
      this.sockets.add(socket);
    } catch (error) {
      this.openSettled();
      throw error;
    }
    // Data that came before the answer (a greeting on connect) is handed over on the next turn: the caller's
    // `await open()` resumes first and attaches its listeners or iterator. Until then new data queues behind it.
    setImmediate(() => {
      if (socket.state !== 'closed') this.index(socket);
      this.openSettled();
    });
    return socket;
  }

  /** The daemon's view: clients, upstreams and their states, delivery counters, gaps, ring fill. */
  async status(): Promise<DaemonStatus> {
    this.assertUsable();
    const answer = await this.attachment.channel.call({ type: 'status' });
    if (answer.type !== 'statusReport') throw unexpected(answer.type);
    return answer.status;
  }

  /** Changes the daemon's log level (it logs to `<runtimeDir>/<namespace>.log`). */
  async setLogLevel(level: LogLevel): Promise<void> {
    this.assertUsable();
    await this.attachment.channel.call({ type: 'setLogLevel', level });
  }

  /** Closes every socket and the connection to the daemon. The daemon exits after its linger if nobody is left. */
  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    const wasConnected = this.currentState === 'connected';
    this.currentState = 'closed';
    if (wasConnected && this.attachment.channel.isOpen) {
      await this.attachment.channel.call({ type: 'close', connectionId: 'all' }).catch(() => {});
    }
    this.detach();
    for (const socket of this.sockets) socket.markClosed({ code: 1000, reason: 'client closed' });
    this.sockets.clear();
    this.byConnection.clear();
  }

  // ---- SocketOwner -------------------------------------------------------------------------------------------

  /** @internal */
  async sendOn(socket: SharedSocket, data: Uint8Array, binary: boolean): Promise<void> {
    this.assertUsable();
    await this.attachment.channel.call({
      type: 'send',
      connectionId: socket.connectionId,
      binary,
      payload: data,
    });
  }

  /** @internal */
  async subscribeOn(socket: SharedSocket, params: Uint8Array): Promise<SubscribeAnswer> {
    this.assertUsable();
    const answer = await this.attachment.channel.call({
      type: 'subscribe',
      connectionId: socket.connectionId,
      params,
    });
    if (answer.type !== 'subscribed') throw unexpected(answer.type);
    return {
      alreadySubscribed: answer.alreadySubscribed,
      reply: Buffer.from(answer.reply),
      state: this.shareState(socket, answer.state),
    };
  }

  /** @internal */
  async unsubscribeOn(socket: SharedSocket, params: Uint8Array): Promise<UnsubscribeAnswer> {
    this.assertUsable();
    const answer = await this.attachment.channel.call({
      type: 'unsubscribe',
      connectionId: socket.connectionId,
      params,
    });
    if (answer.type !== 'unsubscribed') throw unexpected(answer.type);
    return {
      stillSubscribed: answer.stillSubscribed,
      reply: Buffer.from(answer.reply),
      state: this.shareState(socket, answer.state),
    };
  }

  /**
   * The daemon keeps one set per client and connection, so every socket of this client on that connection now holds
   * the same state (and any of them restores the same set after a daemon restart).
   */
  private shareState(socket: SharedSocket, state: Uint8Array | undefined): Buffer | null {
    if (!state) return null;
    const copy = Buffer.from(state);
    for (const other of this.byConnection.get(socket.connectionId) ?? []) other.adoptState(copy);
    return copy;
  }

  /** @internal */
  async closeSocket(socket: SharedSocket): Promise<void> {
    this.forget(socket);
    socket.markClosed({ code: 1000, reason: 'closed by this client' });
    if (this.currentState === 'connected') {
      await this.attachment.channel
        .call({ type: 'close', connectionId: socket.connectionId })
        .catch((error) => {
          // The daemon may have closed the upstream meanwhile: leaving is done either way.
          if (!(error instanceof WsproxyClientError)) throw error;
        });
    }
  }

  // ---- daemon connection ------------------------------------------------------------------------------------

  private async attach(): Promise<Attachment> {
    const { socket } = await connectToDaemon(
      this.paths,
      { enabled: this.options.spawn, args: this.options.daemonArgs, namespace: this.namespace },
      this.options.connectTimeoutMs,
    );
    const { channel, welcome } = await ControlChannel.handshake(
      socket,
      this.options.name,
      this.options.connectTimeoutMs,
    );
    let consumer: RingConsumer;
    this.ledger = new DeliveryLedger();
    try {
      consumer = new RingConsumer(welcome.ringName, welcome.readerSlot, this.options.idle, {
        data: (record, intact) => this.onData(record, intact),
        event: (event) => this.onEvent(event),
        gap: (lost) => this.onGap(lost, channel, welcome.clientId, consumer),
        idleChange: (change) => this.emit('idle', change),
        ended: (error) => {
          // The ring failed under a live control connection: treat it like losing the daemon.
          if (error && channel.isOpen && this.attachment?.channel === channel) channel.close();
        },
      });
    } catch (error) {
      channel.close();
      throw error;
    }
    channel.on('doorbell', () => consumer.wake());
    channel.on('event', (event) => this.onEvent(event));
    channel.on('closed', (error) => {
      consumer.writerGone();
      if (this.attachment?.channel === channel && this.currentState === 'connected') {
        void this.onDaemonLost(error ?? new DaemonDisconnectedError());
      }
    });
    return { channel, consumer, welcome };
  }

  private detach(): void {
    this.attachment.consumer.close();
    this.attachment.channel.close();
    this.assembler = this.newAssembler();
  }

  private async onDaemonLost(error: WsproxyClientError): Promise<void> {
    const lostAt = Date.now();
    this.attachment.consumer.close();
    this.assembler = this.newAssembler();
    if (!this.options.recover) {
      this.currentState = 'closed';
      this.emit('disconnected', error);
      for (const socket of this.sockets)
        socket.markClosed({ code: 1006, reason: 'the wsproxy daemon went away' });
      this.sockets.clear();
      this.byConnection.clear();
      return;
    }
    this.currentState = 'recovering';
    this.emit('disconnected', error);
    this.byConnection.clear();
    for (const socket of this.sockets) {
      socket.markReconnecting({ cause: 'daemon', attempt: 1, delayMs: 0, reason: error.message });
    }
    let attempt = 0;
    for (;;) {
      attempt += 1;
      if (this.isClosed()) return;
      try {
        this.attachment = await this.attach();
        break;
      } catch {
        await sleep(Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)));
      }
    }
    if (this.isClosed()) {
      this.detach();
      return;
    }
    this.currentState = 'connected';
    const sockets = [...this.sockets];
    const reopened = await Promise.all(sockets.map((socket) => this.reopen(socket, attempt, lostAt)));
    const lostUntil = Date.now();
    this.emit('reconnected', {
      daemonPid: this.daemonPid,
      attempt,
      downtimeMs: lostUntil - lostAt,
      lostFrom: lostAt,
      lostUntil,
      sockets: sockets.filter((_, k) => reopened[k]).map((socket) => socket.id),
    });
  }

  /**
   * After a daemon restart: the same open, then the socket's acknowledged subscription STATE put back (one `restore`,
   * never a replay of requests), then `reconnected`. Resolves false when the socket could not be reopened.
   */
  private async reopen(socket: SharedSocket, attempt: number, lostAt: number): Promise<boolean> {
    this.opensInFlight += 1;
    try {
      const { connectionId } = await this.openOnDaemon(socket.spec);
      socket.connectionId = connectionId;
      this.index(socket);
      const restored = await this.restoreState(socket, connectionId);
      const lostUntil = Date.now();
      socket.markReconnected(
        { cause: 'daemon', attempt, downtimeMs: lostUntil - lostAt, lostFrom: lostAt, lostUntil, restored },
        connectionId,
      );
      return true;
    } catch (error) {
      this.forget(socket);
      const failure =
        error instanceof WsproxyClientError
          ? error
          : new WsproxyClientError('WSP_ERR_INTERNAL', (error as Error).message);
      socket.fail(failure);
      socket.markClosed({
        code: 1011,
        reason: `could not reopen after a daemon restart: ${failure.message}`,
      });
      return false;
    } finally {
      this.openSettled();
    }
  }

  /** Puts the socket's acknowledged set back on the new daemon; the answer's state becomes the socket's. */
  private async restoreState(
    socket: SharedSocket,
    connectionId: number,
  ): Promise<RestoredSubscriptions | null> {
    const state = socket.subscriptionState;
    if (!state) return null;
    if (this.attachment.welcome.version < SUBSCRIPTION_STATE_VERSION) {
      // A daemon older than version 3 keeps no state: say so rather than pretend (the socket's data stays off).
      socket.fail(
        new WsproxyClientError(
          DaemonErrorCode.NOT_SUPPORTED,
          `the daemon (protocol ${this.attachment.welcome.version}) cannot restore subscriptions; subscribe again`,
        ),
      );
      return { reply: Buffer.alloc(0), state: null };
    }
    const answer = await this.attachment.channel.call({ type: 'restore', connectionId, state });
    if (answer.type !== 'subscribed') throw unexpected(answer.type);
    return { reply: Buffer.from(answer.reply), state: this.shareState(socket, answer.state) };
  }

  private openSettled(): void {
    this.opensInFlight -= 1;
    if (this.opensInFlight > 0) return;
    this.unclaimed.clear();
    this.unclaimedCount = 0;
  }

  private async openOnDaemon(spec: OpenSpec): Promise<{ connectionId: number; isNew: boolean }> {
    const answer = await this.attachment.channel.call({
      type: 'open',
      url: spec.url,
      adapter: spec.adapter,
      headers: spec.headers,
      credentials: spec.credentials,
      // A daemon older than version 2 cannot read it: it gets the plain open (and has the adapter, or says not).
      ...(spec.adapterModule && this.attachment.welcome.version >= ADAPTER_MODULE_VERSION
        ? { adapterModule: spec.adapterModule }
        : {}),
    });
    if (answer.type !== 'opened') throw unexpected(answer.type);
    return { connectionId: answer.connectionId, isNew: answer.isNew };
  }

  // ---- data -------------------------------------------------------------------------------------------------

  private newAssembler(): FragmentAssembler {
    return new FragmentAssembler({
      onLoss: (loss) => {
        this.ledger.lost();
        for (const socket of this.byConnection.get(loss.connectionId) ?? []) {
          socket.emit('gap', {
            lostMessages: 1,
            lostBytes: loss.messageLength,
            lostRecords: 0,
            pending: false,
          });
        }
      },
    });
  }

  /** The ring sequence of the record being read now (where a message lay, for the lap's count). */
  private readSequence(): number {
    return this.attachment?.consumer.currentSequence ?? Number.MAX_SAFE_INTEGER;
  }

  private onData(record: RingRecord, intact: () => boolean): void {
    const sockets = this.byConnection.get(record.connectionId);
    if (!sockets && this.opensInFlight === 0) {
      // A connection this client has left: addressed to us and read, just not wanted any more.
      if (!record.fragmented || record.remaining === 0) this.ledger.read(this.readSequence());
      return;
    }
    const binary = record.binary;
    // Pieces are copied only for those who asked for them (the callback facade), or while we cannot know yet.
    let wantsFragments = !sockets;
    for (const socket of sockets ?? []) wantsFragments ||= socket.listenerCount('fragment') > 0;
    const fragment = wantsFragments
      ? { data: Buffer.from(record.payload), binary, remaining: record.remaining }
      : undefined;
    const whole = this.assembler.push(record);
    let message: SocketMessage | undefined;
    if (whole) {
      // An unfragmented record comes back as the ring view itself: copy it; a reassembled one is already ours.
      const data =
        whole === record.payload
          ? Buffer.from(whole)
          : Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength);
      message = binary ? { binary: true, data } : { binary: false, data: data.toString('utf8') };
    }
    if (!intact()) {
      // Overwritten while we copied: the reader reports the gap next; a message completed from torn bytes is lost.
      if (whole) {
        this.ledger.lost();
        for (const socket of sockets ?? [])
          socket.emit('gap', {
            lostMessages: 1,
            lostBytes: whole.byteLength,
            lostRecords: 0,
            pending: false,
          });
      }
      return;
    }
    if (whole) this.ledger.read(this.readSequence());
    const delivery: Delivery = { fragment, message };
    if (sockets) this.deliver(sockets, delivery);
    else this.stash(record.connectionId, delivery);
  }

  private deliver(sockets: Iterable<SharedSocket>, { fragment, message }: Delivery): void {
    for (const socket of sockets) {
      if (fragment) socket.deliverFragment(fragment);
      if (message) socket.deliver(message);
    }
  }

  private stash(connectionId: number, delivery: Delivery): void {
    if (this.unclaimedCount >= 65_536) return;
    const early = this.unclaimed.get(connectionId);
    if (early) early.push(delivery);
    else this.unclaimed.set(connectionId, [delivery]);
    this.unclaimedCount += 1;
  }

  /**
   * Lapped: `lostRecords` ring records were skipped. Those are everyone's records, and a large message spans many.
   * The gap is reported at once, in order (before any data after it), with the records and `pending`; the messages
   * it cost follow in a second gap once the daemon has said how many it addressed to us (see DeliveryLedger).
   */
  private onGap(
    lostRecords: number,
    channel: ControlChannel,
    clientId: number,
    consumer: RingConsumer,
  ): void {
    // Fragments of one message are consecutive records, so a message in progress lost its next piece to the lap.
    this.assembler.discard();
    for (const socket of this.sockets)
      socket.emit('gap', { lostMessages: 0, lostBytes: 0, lostRecords, pending: true });
    this.ledger.lapped(
      (settle) => {
        channel.call({ type: 'status' }).then(
          (answer) => {
            if (answer.type !== 'statusReport') return settle(undefined, 0);
            const delivered = answer.status.clients.find((c) => c.clientId === clientId)?.deliveredMessages;
            const point = answer.status.ring.recordsWritten;
            consumer.whenRead(point, () => settle(delivered, point));
          },
          () => settle(undefined, 0),
        );
      },
      (lostMessages) => {
        for (const socket of this.sockets)
          socket.emit('gap', { lostMessages, lostBytes: 0, lostRecords: 0, pending: false });
      },
    );
  }

  private onEvent(event: ConnectionEvent): void {
    if (event.kind === 'gap' && event.connectionId === 0) {
      for (const socket of this.sockets)
        socket.emit('gap', {
          lostMessages: event.lostMessages,
          lostBytes: event.lostBytes,
          lostRecords: 0,
          pending: false,
        });
      return;
    }
    const sockets = [...(this.byConnection.get(event.connectionId) ?? [])];
    switch (event.kind) {
      case 'reconnecting':
        for (const socket of sockets) {
          socket.markReconnecting({
            cause: 'upstream',
            attempt: event.attempt,
            delayMs: event.delayMs,
            reason: event.reason,
          });
        }
        return;
      case 'reconnected':
        for (const socket of sockets) {
          const lostUntil = Date.now();
          socket.markReconnected({
            cause: 'upstream',
            attempt: event.attempt,
            downtimeMs: event.downtimeMs,
            lostFrom: lostUntil - event.downtimeMs,
            lostUntil,
          });
        }
        return;
      case 'error':
        for (const socket of sockets) socket.fail(daemonError(event.code, event.message, event.vendorCode));
        return;
      case 'closed':
        this.assembler.discard(event.connectionId);
        for (const socket of sockets) {
          this.forget(socket);
          socket.markClosed({ code: event.code, reason: event.reason });
        }
        return;
      case 'gap':
        for (const socket of sockets)
          socket.emit('gap', {
            lostMessages: event.lostMessages,
            lostBytes: event.lostBytes,
            lostRecords: 0,
            pending: false,
          });
        return;
    }
  }

  private index(socket: SharedSocket): void {
    let set = this.byConnection.get(socket.connectionId);
    if (!set) {
      set = new Set();
      this.byConnection.set(socket.connectionId, set);
    }
    set.add(socket);
    const early = this.unclaimed.get(socket.connectionId);
    if (!early) return;
    this.unclaimed.delete(socket.connectionId);
    this.unclaimedCount -= early.length;
    for (const delivery of early) this.deliver([socket], delivery);
  }

  private forget(socket: SharedSocket): void {
    this.sockets.delete(socket);
    const set = this.byConnection.get(socket.connectionId);
    set?.delete(socket);
    if (set && set.size === 0) this.byConnection.delete(socket.connectionId);
  }

  /** A method, not a field check: `close()` may run while recovery awaits, which narrowing cannot see. */
  private isClosed(): boolean {
    return this.currentState === 'closed';
  }

  private assertUsable(): void {
    if (this.currentState === 'closed') throw new ClosedError('this wsproxy client');
    if (this.currentState === 'recovering') {
      throw new DaemonDisconnectedError(
        'the daemon is being restarted; wait for the client\'s "reconnected" event',
      );
    }
  }
}

function unexpected(type: string): WsproxyClientError {
  return new WsproxyClientError('WSP_ERR_PROTOCOL', `unexpected answer ${type} from the daemon`);
}

/**
 * Connects to this user's wsproxy daemon for the namespace, spawning it if none runs.
 *
 * ```ts
 * const client = await connect();
 * const socket = await client.open('wss://stream.example.com/v2/feed');
 * for await (const message of socket) console.log(message.data);
 * ```
 */
export function connect(options: ConnectOptions = {}): Promise<WsproxyClient> {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    return Promise.reject(new InvalidArgumentError('options must be an object'));
  }
  return WsproxyClient.create(options);
}
