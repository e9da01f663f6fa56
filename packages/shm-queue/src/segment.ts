import {
  InvalidArgumentError,
  NativeAddonError,
  SegmentExistsError,
  SegmentNotFoundError,
  ShmQueueError,
  SystemError,
} from './errors.js';
import { type Mapping, shm } from './native.js';

/**
 * A named shared-memory segment mapped into this process. POSIX shm (`/dev/shm/<name>` on Linux) or a
 * `Local\` file mapping on Windows. Created 0600; `close()` detaches the buffer so stale views read as empty.
 */
export class Segment {
  readonly name: string;
  readonly buffer: ArrayBuffer;
  readonly size: number;
  #handle: object | undefined;

  private constructor(name: string, mapping: Mapping) {
    this.name = name;
    this.buffer = mapping.buffer;
    this.size = mapping.buffer.byteLength;
    this.#handle = mapping.handle;
  }

  static create(name: string, size: number): Segment {
    validateSegmentName(name);
    // Checked here: the addon sees a double, and NaN or a fraction would reach ftruncate as whatever C makes of it.
    if (!Number.isSafeInteger(size) || size < 1) {
      throw new InvalidArgumentError(`size must be a positive integer number of bytes, got ${size}`);
    }
    try {
      return new Segment(name, shm().create(name, size));
    } catch (error) {
      throw translate(error, name, 'create');
    }
  }

  static open(name: string): Segment {
    validateSegmentName(name);
    try {
      return new Segment(name, shm().open(name));
    } catch (error) {
      throw translate(error, name, 'open');
    }
  }

  /** Removes the name; processes that still map the segment keep it until they close. */
  static unlink(name: string): boolean {
    validateSegmentName(name);
    try {
      return shm().unlink(name);
    } catch (error) {
      throw translate(error, name, 'unlink');
    }
  }

  get closed(): boolean {
    return this.#handle === undefined;
  }

  close(): void {
    if (this.#handle === undefined) return;
    try {
      shm().close(this.#handle, this.buffer);
    } catch (error) {
      // The addon keeps the pages mapped when it cannot prove no view reaches them (see shm.c's close()).
      throw translate(error, this.name, 'close');
    }
    this.#handle = undefined;
  }
}

// macOS limits POSIX shm names to 31 bytes including the leading slash.
const MAX_NAME = process.platform === 'darwin' ? 30 : 200;
const NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

export function validateSegmentName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME || !NAME_PATTERN.test(name)) {
    throw new InvalidArgumentError(
      `name must be 1..${MAX_NAME} characters of [A-Za-z0-9._-] on ${process.platform}, got ${JSON.stringify(name)}`,
    );
  }
}

function translate(error: unknown, name: string, op: string): Error {
  if (error instanceof ShmQueueError) return error;
  const code = (error as { code?: unknown }).code;
  // A Node-API call inside the addon failed (src/native/shm.c's NAPI_CALL).
  if (code === 'SHMQ_ERR_NATIVE_ADDON') return new NativeAddonError((error as Error).message, error);
  if (code === 'EEXIST') return new SegmentExistsError(name);
  if (code === 'ENOENT') return new SegmentNotFoundError(name);
  if (typeof code === 'string' && !code.startsWith('SHMQ_ERR_')) {
    const detail = error instanceof Error ? `: ${error.message}` : '';
    return new SystemError(code, `cannot ${op} shared-memory segment "${name}"${detail}`, error);
  }
  return error as Error;
}
