import type { Socket } from 'node:net';
import {
  type ClientRequest,
  type ControlMessage,
  ControlStreamDecoder,
  DaemonErrorCode,
  type DaemonMessage,
  DOORBELL_BYTE,
  type Hello,
  ProtocolError,
  type StatusRequest,
  VENDOR_CODE_VERSION,
} from '@wsproxy/protocol';
import type { Logger } from 'pino';
import { encodeForPeer } from './guarded-encode.js';
import { DEFAULT_CONTROL_LIMITS, type ResolvedControlLimits } from './limits.js';

const DOORBELL = Buffer.of(DOORBELL_BYTE);

/** What a client older than protocol version 3 can decode: the same error, without the vendor's code. */
function withoutVendorCode(message: DaemonMessage): DaemonMessage {
  if (message.type === 'error' && message.vendorCode !== undefined) {
    const { vendorCode: _, ...rest } = message;
    return rest;
  }
  if (message.type === 'event' && message.event.kind === 'error' && message.event.vendorCode !== undefined) {
    const { vendorCode: _, ...event } = message.event;
    return { type: 'event', event };
  }
  return message;
}
/** Requests held back from a client whose reading is paused (see `held`). */
const MAX_HELD_REQUESTS = 16_384;
/** Requests of one client handled at once; more wait in `held`, and are taken up between event-loop turns. */
const MAX_IN_FLIGHT = 64;

export interface ClientSessionHandlers {
  /** The client said hello; answer with `welcome` or `refused` (the session closes after a refusal). */
  hello(session: ClientSession, hello: Hello): DaemonMessage;
  /**
   * A `status` sent instead of a hello (what `wsproxy status` and `stop` do): answered once, then the connection
   * closes. Such a peer never becomes a client: it takes no reader slot and is not counted or listed.
   */
  probe(request: StatusRequest): DaemonMessage;
  /** A request after the handshake; the handler answers through `session.send`, and settles once it has. */
  request(session: ClientSession, request: ClientRequest): Promise<void> | void;
  /** The socket is gone (client closed, crashed, or was cut off for a protocol error). */
  closed(session: ClientSession): void;
}

/** Per-client delivery counters, shown by `wsproxy status`. */
export interface DeliveryStats {
  deliveredMessages: number;
  deliveredBytes: number;
  /** Upstream frames this client lost because the adapter could not route them (each told as a `gap`). */
  droppedMessages: number;
}

/**
 * One client process's control connection: framing, the handshake, and liveness (the socket closing is how we
 * learn that a client died, so no heartbeat is needed). A peer that sends garbage gets a typed error and is
 * disconnected; nobody else notices.
 */
export class ClientSession {
  /** 0 until the handshake completes. */
  id = 0;
  name = '';
  pid = 0;
  /** The protocol version negotiated in the handshake (0 before it). */
  version = 0;
  readerSlot = -1;
  /** Upstream connection ids this client opened. */
  readonly connections = new Set<number>();
  readonly stats: DeliveryStats = { deliveredMessages: 0, deliveredBytes: 0, droppedMessages: 0 };
  private readonly decoder: ControlStreamDecoder;
  private closedFlag = false;
  private logger: Logger;
  /** A peer that connects and never says hello would hold a socket forever. */
  private readonly helloTimer: NodeJS.Timeout;
  /** Bytes received before the hello completed (bounded: a stranger may not make us buffer a 64 MiB frame). */
  private preHelloBytes = 0;
  /** Reading is paused because too many answer bytes wait unread (back-pressure on a client that does not read). */
  private paused = false;
  /**
   * Requests decoded but not yet handled because the client is paused: one socket read may carry thousands of
   * requests (6,500 `status` in 64 KiB), and answering them all at once is what starved every other client.
   */
  private readonly held: ClientRequest[] = [];
  private inFlight = 0;
  private pumpScheduled = false;
  /** When this client last sent a request (or connected): with no open connection, how long it has been idle. */
  lastRequestAt = Date.now();

  constructor(
    private readonly socket: Socket,
    private readonly handlers: ClientSessionHandlers,
    logger: Logger,
    private readonly limits: ResolvedControlLimits = DEFAULT_CONTROL_LIMITS,
  ) {
    this.logger = logger;
    this.decoder = new ControlStreamDecoder({ onMessage: (message) => this.onMessage(message) });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (error) => this.logger.debug({ err: error }, 'client socket error'));
    socket.on('close', () => this.onClose());
    this.helloTimer = setTimeout(() => {
      if (this.id === 0) {
        this.close({
          code: DaemonErrorCode.HANDSHAKE_REQUIRED,
          message: `no hello within ${limits.helloTimeoutMs} ms`,
        });
      }
    }, limits.helloTimeoutMs);
    this.helloTimer.unref();
  }

  /** Said hello and was welcomed. */
  get admitted(): boolean {
    return this.id !== 0;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Queues one message. Never throws: a message the codec refuses reaches the peer as a typed `WSP_ERR_OVER_LIMIT`
   * error in its place, and a peer that lets too much pile up unread is paused, then cut off.
   */
  send(message: DaemonMessage): void {
    if (this.closedFlag || this.socket.destroyed) return;
    const { frame, substituted } = encodeForPeer(
      this.version < VENDOR_CODE_VERSION ? withoutVendorCode(message) : message,
    );
    if (substituted !== undefined) {
      this.logger.warn(
        { err: substituted, type: message.type },
        'a message could not be encoded for this client',
      );
    }
    if (!frame) return;
    this.socket.write(frame);
    this.applyBackPressure();
  }

  private applyBackPressure(): void {
    const queued = this.socket.writableLength;
    if (queued > this.limits.maxQueuedBytes) {
      this.cutSlowConsumer(`more than ${this.limits.maxQueuedBytes} bytes of answers queued unread`);
      return;
    }
    if (!this.paused && queued > this.limits.pauseReadingBytes) {
      // Stop taking requests until the client reads what it asked for: its requests stay in its own buffers.
      this.paused = true;
      this.socket.pause();
      const stalled = setTimeout(
        () => this.cutSlowConsumer(`read nothing of its queued answers for ${this.limits.maxStallMs} ms`),
        this.limits.maxStallMs,
      );
      this.socket.once('drain', () => {
        clearTimeout(stalled);
        this.paused = false;
        this.schedulePump();
        if (!this.closedFlag) this.socket.resume();
      });
      this.socket.once('close', () => clearTimeout(stalled));
    }
  }

  private cutSlowConsumer(why: string): void {
    if (this.closedFlag) return;
    this.logger.warn({ queued: this.socket.writableLength }, `slow consumer: ${why}; disconnecting it`);
    this.socket.pause();
    // The error goes behind what is queued: the peer sees it only if it starts reading again.
    this.close({ code: DaemonErrorCode.SLOW_CONSUMER, message: why });
    this.closedFlag = true;
    this.handlers.closed(this);
  }

  /** One byte: "the ring has data for you". Sent only when the ring writer flipped this reader's sleeping flag. */
  ringDoorbell(): void {
    if (this.closedFlag || this.socket.destroyed) return;
    this.socket.write(DOORBELL);
  }

  /** Sends a final error (if any) and closes the connection. */
  close(error?: { code: string; message: string }): void {
    if (error && !this.socket.destroyed) {
      const { frame } = encodeForPeer({
        type: 'error',
        requestId: 0,
        code: error.code,
        message: error.message,
      });
      if (frame) this.socket.write(frame);
    }
    this.socket.end();
    // A peer that never reads must not keep the socket (and our buffers) alive.
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closedFlag) return;
    if (this.id === 0) {
      this.preHelloBytes += chunk.length;
      if (this.preHelloBytes > this.limits.maxPreHelloBytes) {
        this.logger.warn({ bytes: this.preHelloBytes }, 'too many bytes before hello; disconnecting client');
        this.close({
          code: DaemonErrorCode.OVER_LIMIT,
          message: `more than ${this.limits.maxPreHelloBytes} bytes before hello (maxPreHelloBytes)`,
        });
        this.closedFlag = true;
        this.handlers.closed(this);
        return;
      }
    }
    try {
      this.decoder.push(chunk);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.logger.warn(
        { code: error.code, message: error.message },
        'malformed control frame; disconnecting client',
      );
      this.close({ code: DaemonErrorCode.PROTOCOL, message: `${error.code}: ${error.message}` });
      this.closedFlag = true;
      this.handlers.closed(this);
    }
  }

  private onMessage(typed: ControlMessage): void {
    if (typed.type === 'hello') {
      if (this.id !== 0) {
        this.send({
          type: 'error',
          requestId: 0,
          code: DaemonErrorCode.HANDSHAKE_REQUIRED,
          message: 'hello sent twice',
        });
        return;
      }
      clearTimeout(this.helloTimer);
      const answer = this.handlers.hello(this, typed);
      this.send(answer);
      if (answer.type === 'refused') this.close();
      else this.logger = this.logger.child({ client: this.id, clientPid: this.pid });
      return;
    }
    if (this.id === 0 && typed.type === 'status') {
      clearTimeout(this.helloTimer);
      this.send(this.handlers.probe(typed));
      this.close();
      return;
    }
    if (this.id === 0) {
      this.close({ code: DaemonErrorCode.HANDSHAKE_REQUIRED, message: `${typed.type} before hello` });
      return;
    }
    if (!isClientRequest(typed)) {
      this.close({ code: DaemonErrorCode.PROTOCOL, message: `a client may not send ${typed.type}` });
      return;
    }
    if (this.paused || this.inFlight >= MAX_IN_FLIGHT || this.held.length > 0) {
      if (this.held.length >= MAX_HELD_REQUESTS) {
        this.cutSlowConsumer(`more than ${MAX_HELD_REQUESTS} requests sent while not reading the answers`);
        return;
      }
      this.held.push(typed);
      this.schedulePump();
      return;
    }
    this.dispatch(typed);
  }

  private dispatch(request: ClientRequest): void {
    this.lastRequestAt = Date.now();
    this.inFlight++;
    Promise.resolve(this.handlers.request(this, request)).finally(() => {
      this.inFlight--;
      if (this.held.length > 0) this.schedulePump();
    });
  }

  /**
   * Takes up held requests on a later event-loop turn, a few at a time: a client that sends 20,000 requests in one
   * write is served in slices, with every other client's I/O in between, and not while its answers sit unread.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      while (!this.paused && !this.closedFlag && this.inFlight < MAX_IN_FLIGHT && this.held.length > 0) {
        this.dispatch(this.held.shift()!);
      }
    });
  }

  private onClose(): void {
    clearTimeout(this.helloTimer);
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.handlers.closed(this);
  }
}

const REQUEST_TYPES: ReadonlySet<string> = new Set([
  'open',
  'close',
  'send',
  'subscribe',
  'unsubscribe',
  'restore',
  'setLogLevel',
  'status',
]);

function isClientRequest(message: { type: string }): message is ClientRequest {
  return REQUEST_TYPES.has(message.type);
}
