import { createConnection, type Socket } from 'node:net';
import { DoorbellError } from '../errors.js';
import type { RingReader } from '../reader.js';
import { checkSocketPath, defaultDoorbellPath } from './path.js';
import { encodeHello } from './wire.js';

export interface ConnectDoorbellOptions {
  /** Socket path; defaults to `defaultDoorbellPath(reader.name)`. */
  path?: string;
}

/** A reader's connection to a `DoorbellServer`. */
export class DoorbellConnection {
  readonly path: string;
  readonly #socket: Socket;
  #closed = false;

  private constructor(socket: Socket, path: string, reader: RingReader) {
    this.#socket = socket;
    this.path = path;
    socket.on('data', () => reader.notify());
    socket.on('error', () => {
      // 'close' follows; that is where the writer's departure is reported.
    });
    socket.on('close', () => {
      if (!this.#closed) reader.writerGone('the doorbell connection to the writer closed');
    });
  }

  /** Connects `reader` to its writer's doorbell and announces the reader's slot. */
  static connect(reader: RingReader, options: ConnectDoorbellOptions = {}): Promise<DoorbellConnection> {
    const path = options.path ?? defaultDoorbellPath(reader.name);
    checkSocketPath(path);
    return new Promise((resolve, reject) => {
      const socket = createConnection(path);
      socket.once('error', (error) =>
        reject(new DoorbellError(`cannot connect to the doorbell at ${path}`, error)),
      );
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        socket.write(encodeHello(reader.slot, process.pid));
        resolve(new DoorbellConnection(socket, path, reader));
      });
    });
  }

  /** Hangs up without reporting the writer as gone. */
  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }
}

/** Shorthand for `DoorbellConnection.connect(reader, options)`. */
export function connectDoorbell(
  reader: RingReader,
  options?: ConnectDoorbellOptions,
): Promise<DoorbellConnection> {
  return DoorbellConnection.connect(reader, options);
}
