import { chmodSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { ClosedError, DoorbellError } from '../errors.js';
import type { RingWriter } from '../writer.js';
import { checkSocketPath, defaultDoorbellPath, ensurePrivateDirectory } from './path.js';
import { BELL, decodeHello, HELLO_BYTES } from './wire.js';

export interface DoorbellServerOptions {
  /** The ring whose readers this server wakes; its `onWake` is pointed at this server. */
  writer: RingWriter;
  /** Socket path; defaults to `defaultDoorbellPath(writer.name)`. Its folder is created 0700. */
  path?: string;
  /** Free a reader's slot as soon as its doorbell connection closes (default true). */
  releaseOnDisconnect?: boolean;
}

const BELL_BYTE = Buffer.from([BELL]);
const HELLO_TIMEOUT_MS = 5000;

/**
 * A ready-made doorbell transport owned by the writer: readers connect over a Unix socket (0600, in a 0700
 * folder) and say which slot they hold; the writer's wake-ups are routed to that connection as single bytes.
 * A reader's connection closing frees its slot; the server closing tells every reader the writer is gone.
 */
export class DoorbellServer {
  readonly path: string;
  readonly #server: Server;
  readonly #writer: RingWriter;
  readonly #bySlot = new Map<number, Socket>();
  readonly #sockets = new Set<Socket>();
  readonly #release: boolean;
  #closing: Promise<void> | undefined;
  #readerWaiters: Array<{ count: number; resolve: () => void; reject: (error: Error) => void }> = [];

  private constructor(server: Server, path: string, options: DoorbellServerOptions) {
    this.#server = server;
    this.path = path;
    this.#writer = options.writer;
    this.#release = options.releaseOnDisconnect ?? true;
    const previous = options.writer.onWake;
    options.writer.onWake = previous
      ? (slot) => {
          previous(slot);
          this.ring(slot);
        }
      : (slot) => this.ring(slot);
    server.on('connection', (socket) => this.#accept(socket));
  }

  static async listen(options: DoorbellServerOptions): Promise<DoorbellServer> {
    const path = options.path ?? defaultDoorbellPath(options.writer.name);
    checkSocketPath(path);
    ensurePrivateDirectory(path);
    await removeStaleSocket(path);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new DoorbellError(`cannot listen on ${path}`, error)));
      server.listen(path, () => resolve());
    });
    if (process.platform !== 'win32') {
      try {
        chmodSync(path, 0o600);
      } catch (error) {
        // A socket we cannot make private is not served: stop listening and take the file away again.
        await new Promise<void>((resolve) => server.close(() => resolve()));
        throw new DoorbellError(`cannot make the doorbell socket ${path} private (0600)`, error);
      }
    }
    // After listening, the only server errors are failed accepts (EMFILE...): they concern the one reader trying to
    // connect, which sees its own connect error. Unhandled, such an 'error' would crash the writer's process.
    server.on('error', () => {});
    return new DoorbellServer(server, path, options);
  }

  /** Readers currently connected, by slot. */
  get connectedSlots(): number[] {
    return [...this.#bySlot.keys()];
  }

  /**
   * Resolves once at least `count` readers have connected and announced their slot; rejects with `SHMQ_ERR_CLOSED`
   * if the server closes first, so nobody waits forever for readers that can no longer come.
   */
  waitForReaders(count: number): Promise<void> {
    if (this.#bySlot.size >= count) return Promise.resolve();
    if (this.#closing !== undefined) return Promise.reject(new ClosedError(`doorbell server ${this.path}`));
    return new Promise((resolve, reject) => this.#readerWaiters.push({ count, resolve, reject }));
  }

  /** Sends one doorbell to the reader holding `slot`; returns false if it has no connection. */
  ring(slot: number): boolean {
    const socket = this.#bySlot.get(slot);
    if (socket === undefined || socket.destroyed) return false;
    socket.write(BELL_BYTE);
    return true;
  }

  /** Stops accepting, ends every reader connection (they see the writer gone) and removes the socket file. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const waiter of this.#readerWaiters.splice(0)) {
        waiter.reject(new ClosedError(`doorbell server ${this.path}`));
      }
      for (const socket of this.#sockets) socket.end();
      this.#server.close(() => {
        if (process.platform !== 'win32') {
          try {
            unlinkSync(this.path);
          } catch {
            // Already gone: Node removes the socket file itself on some platforms.
          }
        }
        resolve();
      });
      // Readers that do not hang up promptly must not keep close() waiting.
      setTimeout(() => {
        for (const socket of this.#sockets) socket.destroy();
      }, 1000).unref();
    });
    return this.#closing;
  }

  /** The ring says `pid` holds `slot` (readers claim their slot before they connect and say hello). */
  #holdsSlot(slot: number, pid: number): boolean {
    return !this.#writer.closed && this.#writer.readers().some((r) => r.slot === slot && r.pid === pid);
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    let pending = Buffer.alloc(0);
    let hello: { slot: number; pid: number } | undefined;
    const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
    timer.unref();
    socket.on('data', (chunk: Buffer) => {
      if (hello !== undefined) return;
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < HELLO_BYTES) return;
      clearTimeout(timer);
      hello = decodeHello(pending);
      if (hello === undefined || !this.#holdsSlot(hello.slot, hello.pid)) {
        // Only the process holding the slot gets its doorbells; anyone else would displace the real reader's
        // connection (which then takes the writer for gone) and, on hanging up, could free a slot not theirs.
        hello = undefined;
        socket.destroy();
        return;
      }
      this.#bySlot.get(hello.slot)?.destroy();
      this.#bySlot.set(hello.slot, socket);
      // The reader may have gone to sleep before its hello arrived; one spare doorbell is harmless.
      socket.write(BELL_BYTE);
      this.#readerWaiters = this.#readerWaiters.filter((waiter) => {
        if (this.#bySlot.size < waiter.count) return true;
        waiter.resolve();
        return false;
      });
    });
    socket.on('error', () => {
      // A reader vanishing mid-write; 'close' follows and does the bookkeeping.
    });
    socket.on('close', () => {
      clearTimeout(timer);
      this.#sockets.delete(socket);
      if (hello === undefined || this.#bySlot.get(hello.slot) !== socket) return;
      this.#bySlot.delete(hello.slot);
      if (this.#release && !this.#writer.closed) this.#writer.releaseReader(hello.slot, hello.pid);
    });
  }
}

/** A socket file nobody listens on (a crashed writer's) is removed; a live one is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new DoorbellError(`another writer is already listening on ${path}`);
  try {
    unlinkSync(path);
  } catch {
    // Nothing there.
  }
}
