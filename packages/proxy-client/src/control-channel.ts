import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  assertAcceptedVersion,
  type ClientRequest,
  type ConnectionEvent,
  ControlStreamDecoder,
  type DaemonMessage,
  type DaemonResponse,
  encodeControlFrame,
  SUPPORTED_VERSIONS,
  versionMismatchFromRefusal,
  type Welcome,
} from '@wsproxy/protocol';
import { daemonError } from './daemon-errors.js';
import {
  DaemonDisconnectedError,
  DaemonRequestError,
  HandshakeRefusedError,
  WsproxyClientError,
} from './errors.js';

/** A request as the caller writes it; the channel assigns the correlation id. */
export type OutgoingRequest = ClientRequest extends infer R
  ? R extends ClientRequest
    ? Omit<R, 'requestId'>
    : never
  : never;

interface ControlChannelEvents {
  event: [event: ConnectionEvent];
  doorbell: [];
  /** The socket closed; `error` says why when it was not our own close(). */
  closed: [error: WsproxyClientError | undefined];
}

/**
 * The client's side of the Unix socket: the handshake, requests correlated with their responses, connection events
 * and doorbells. Its closing is how the client learns at once that the daemon died.
 */
export class ControlChannel extends EventEmitter<ControlChannelEvents> {
  private readonly pending = new Map<
    number,
    { resolve: (r: DaemonResponse) => void; reject: (e: Error) => void }
  >();
  private nextRequestId = 1;
  private closing = false;
  private ended = false;
  private welcomed: ((welcome: Welcome) => void) | undefined;
  private refused: ((error: Error) => void) | undefined;
  private failure: WsproxyClientError | undefined;

  private constructor(private readonly socket: Socket) {
    super();
    const decoder = new ControlStreamDecoder({
      onMessage: (message) => this.onMessage(message as DaemonMessage),
      onDoorbell: () => this.emit('doorbell'),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      try {
        decoder.push(chunk);
      } catch (error) {
        this.failure = new WsproxyClientError(
          'WSP_ERR_PROTOCOL',
          `the daemon sent a malformed frame: ${(error as Error).message}`,
        );
        socket.destroy();
      }
    });
    socket.on('error', () => {
      // 'close' follows and reports.
    });
    socket.on('close', () => this.onClose());
  }

  /** Says hello and waits for the daemon's welcome. */
  static handshake(
    socket: Socket,
    clientName: string,
    timeoutMs: number,
  ): Promise<{ channel: ControlChannel; welcome: Welcome }> {
    const channel = new ControlChannel(socket);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new DaemonDisconnectedError(`the daemon did not answer the handshake within ${timeoutMs} ms`));
      }, timeoutMs);
      channel.welcomed = (welcome) => {
        clearTimeout(timer);
        try {
          assertAcceptedVersion(welcome.version);
        } catch (error) {
          socket.destroy();
          reject(error);
          return;
        }
        resolve({ channel, welcome });
      };
      channel.refused = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      socket.write(
        encodeControlFrame({
          type: 'hello',
          minVersion: SUPPORTED_VERSIONS.min,
          maxVersion: SUPPORTED_VERSIONS.max,
          clientPid: process.pid,
          clientName,
        }),
      );
    });
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  request(request: OutgoingRequest): Promise<DaemonResponse> {
    if (this.ended) return Promise.reject(new DaemonDisconnectedError());
    const requestId = this.nextRequestId;
    this.nextRequestId = this.nextRequestId >= 0xffff_fffe ? 1 : this.nextRequestId + 1;
    // Encode first: a request the codec refuses (over a limit, bad UTF-8) fails here, typed, with nothing sent.
    const frame = encodeControlFrame({ ...request, requestId } as ClientRequest);
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.socket.write(frame);
    });
  }

  /** Sends a request and turns an `error` answer into a typed exception. */
  async call(request: OutgoingRequest): Promise<DaemonResponse> {
    const answer = await this.request(request);
    if (answer.type === 'error') throw daemonError(answer.code, answer.message, answer.vendorCode);
    return answer;
  }

  close(): void {
    this.closing = true;
    this.socket.end();
    this.socket.destroySoon?.();
  }

  private onMessage(message: DaemonMessage): void {
    switch (message.type) {
      case 'welcome':
        this.welcomed?.(message);
        this.welcomed = undefined;
        return;
      case 'refused':
        // A version mismatch becomes the protocol's own error, naming both sides' ranges.
        this.refused?.(
          versionMismatchFromRefusal(message) ?? new HandshakeRefusedError(message.code, message.message),
        );
        this.refused = undefined;
        return;
      case 'event':
        this.emit('event', message.event);
        return;
      default: {
        if (message.requestId === 0) {
          // Not about one request: the daemon is telling us why it will hang up (e.g. a protocol error).
          if (message.type === 'error') this.failure = new DaemonRequestError(message.code, message.message);
          return;
        }
        const waiter = this.pending.get(message.requestId);
        if (!waiter) return;
        this.pending.delete(message.requestId);
        waiter.resolve(message);
      }
    }
  }

  private onClose(): void {
    if (this.ended) return;
    this.ended = true;
    const error = this.failure ?? new DaemonDisconnectedError();
    this.refused?.(error);
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
    this.emit('closed', this.closing ? undefined : error);
  }
}
