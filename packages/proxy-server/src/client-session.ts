import type { Socket } from 'node:net';
import {
  type ClientRequest,
  type ControlMessage,
  ControlStreamDecoder,
  DaemonErrorCode,
  type DaemonMessage,
  DOORBELL_BYTE,
  encodeControlFrame,
  type Hello,
  ProtocolError,
  type StatusRequest,
  VENDOR_CODE_VERSION,
} from '@wsproxy/protocol';
import type { Logger } from 'pino';

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
const HELLO_TIMEOUT_MS = 5_000;

export interface ClientSessionHandlers {
  /** The client said hello; answer with `welcome` or `refused` (the session closes after a refusal). */
  hello(session: ClientSession, hello: Hello): DaemonMessage;
  /**
   * A `status` sent instead of a hello (what `wsproxy status` and `stop` do): answered once, then the connection
   * closes. Such a peer never becomes a client: it takes no reader slot and is not counted or listed.
   */
  probe(request: StatusRequest): DaemonMessage;
  /** A request after the handshake; the handler answers through `session.send`. */
  request(session: ClientSession, request: ClientRequest): void;
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

  constructor(
    private readonly socket: Socket,
    private readonly handlers: ClientSessionHandlers,
    logger: Logger,
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
          message: `no hello within ${HELLO_TIMEOUT_MS} ms`,
        });
      }
    }, HELLO_TIMEOUT_MS);
    this.helloTimer.unref();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  send(message: DaemonMessage): void {
    if (this.closedFlag || this.socket.destroyed) return;
    this.socket.write(
      encodeControlFrame(this.version < VENDOR_CODE_VERSION ? withoutVendorCode(message) : message),
    );
  }

  /** One byte: "the ring has data for you". Sent only when the ring writer flipped this reader's sleeping flag. */
  ringDoorbell(): void {
    if (this.closedFlag || this.socket.destroyed) return;
    this.socket.write(DOORBELL);
  }

  /** Sends a final error (if any) and closes the connection. */
  close(error?: { code: string; message: string }): void {
    if (error) this.send({ type: 'error', requestId: 0, code: error.code, message: error.message });
    this.socket.end();
    // A peer that never reads must not keep the socket (and our buffers) alive.
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  private onData(chunk: Buffer): void {
    if (this.closedFlag) return;
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
    this.handlers.request(this, typed);
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
