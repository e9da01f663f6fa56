import { MalformedFrameError, OverLimitError, ProtocolError, TruncatedFrameError } from '../errors.js';
import { type ProtocolLimits, resolveLimits } from '../limits.js';
import { readU32 } from '../wire/bytes.js';
import { decodeControlBody } from './codec.js';
import { DOORBELL_BYTE, FRAME_HEADER_BYTES, FRAME_MARK } from './constants.js';
import type { ControlMessage } from './messages.js';

export interface ControlStreamHandlers {
  /** A decoded control message. Byte fields are views into the received chunks (Node never reuses those). */
  onMessage(message: ControlMessage): void;
  /**
   * A doorbell byte: the ring has data for this reader. Omit on the daemon side: clients never ring, so without
   * this handler a doorbell is a `MalformedFrameError`.
   */
  onDoorbell?(): void;
}

export interface ControlStreamOptions {
  limits?: Partial<ProtocolLimits>;
}

/**
 * Turns the bytes of a control socket into messages and doorbells, whatever the chunking: frames split across
 * reads, several frames and doorbells in one read. Buffers only bytes that have arrived (a claimed length is checked
 * against `maxFrameBytes` at once and never pre-allocated), and decodes frames that lie inside one chunk in place.
 *
 * Errors are final: a `ProtocolError` from `push` means the peer is broken or hostile, and framing can no longer be
 * trusted, so every later `push` rethrows it. Close the socket. Handlers must not throw: an exception from a handler
 * propagates out of `push` and the rest of that chunk is dropped.
 */
export class ControlStreamDecoder {
  readonly limits: ProtocolLimits;
  readonly #handlers: ControlStreamHandlers;
  /** Chunks of an incomplete frame, oldest first. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Total length (header + body) of the incomplete frame, once its header has arrived; else -1. */
  #expected = -1;
  #failure: ProtocolError | null = null;

  constructor(handlers: ControlStreamHandlers, options: ControlStreamOptions = {}) {
    this.#handlers = handlers;
    this.limits = resolveLimits(options.limits);
  }

  /** Bytes held for a frame that has not fully arrived. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** The error that stopped this decoder, or null. */
  get failure(): ProtocolError | null {
    return this.#failure;
  }

  push(chunk: Uint8Array): void {
    if (this.#failure) throw this.#failure;
    if (chunk.length === 0) return;
    try {
      if (this.#pendingBytes === 0) {
        this.#consume(chunk);
        return;
      }
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#expected < 0) {
        if (this.#pendingBytes < FRAME_HEADER_BYTES) return;
        const header = this.#concat(FRAME_HEADER_BYTES);
        this.#expected = this.#checkedFrameLength(header, 0);
      }
      if (this.#pendingBytes < this.#expected) return;
      // The frame is complete: join what arrived (bounded by the verified length plus one chunk) and go on.
      const joined = this.#concat(this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#expected = -1;
      this.#consume(joined);
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.#failure = err;
        this.#pending = [];
        this.#pendingBytes = 0;
      }
      throw err;
    }
  }

  /**
   * The peer closed the stream. Throws `TruncatedFrameError` if it closed in the middle of a frame, which means a
   * message was lost.
   */
  end(): void {
    if (this.#failure) throw this.#failure;
    if (this.#pendingBytes > 0) {
      const needed = this.#expected > 0 ? this.#expected : FRAME_HEADER_BYTES;
      const err = new TruncatedFrameError(
        'control stream (peer closed mid-frame)',
        needed,
        this.#pendingBytes,
      );
      this.#failure = err;
      throw err;
    }
  }

  #consume(bytes: Uint8Array): void {
    const n = bytes.length;
    let pos = 0;
    while (pos < n) {
      const lead = bytes[pos]!;
      if (lead === DOORBELL_BYTE) {
        const onDoorbell = this.#handlers.onDoorbell;
        if (!onDoorbell)
          throw new MalformedFrameError('control stream: a doorbell on a stream that takes none');
        pos++;
        onDoorbell.call(this.#handlers);
        continue;
      }
      if (lead !== FRAME_MARK) {
        throw new MalformedFrameError(
          `control stream: expected a frame (0x57) or a doorbell (0x07), got 0x${lead.toString(16).padStart(2, '0')}`,
        );
      }
      if (n - pos < FRAME_HEADER_BYTES) break;
      const total = this.#checkedFrameLength(bytes, pos);
      if (n - pos < total) break;
      const body = bytes.subarray(pos + FRAME_HEADER_BYTES, pos + total);
      pos += total;
      this.#handlers.onMessage(decodeControlBody(body, this.limits));
    }
    if (pos < n) {
      const rest = bytes.subarray(pos);
      this.#pending.push(rest);
      this.#pendingBytes = rest.length;
      this.#expected = rest.length >= FRAME_HEADER_BYTES ? this.#checkedFrameLength(rest, 0) : -1;
    }
  }

  #checkedFrameLength(bytes: Uint8Array, pos: number): number {
    const bodyLength = readU32(bytes, pos + 1);
    if (bodyLength > this.limits.maxFrameBytes) {
      throw new OverLimitError('maxFrameBytes', bodyLength, this.limits.maxFrameBytes);
    }
    if (bodyLength === 0) throw new MalformedFrameError('control frame with an empty body');
    return FRAME_HEADER_BYTES + bodyLength;
  }

  /** The first `length` pending bytes as one array. */
  #concat(length: number): Uint8Array {
    const first = this.#pending[0]!;
    if (first.length >= length) return first.subarray(0, length);
    const out = new Uint8Array(length);
    let at = 0;
    for (const chunk of this.#pending) {
      const take = Math.min(chunk.length, length - at);
      out.set(take === chunk.length ? chunk : chunk.subarray(0, take), at);
      at += take;
      if (at === length) break;
    }
    return out;
  }
}
