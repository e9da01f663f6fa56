/**
 * Every failure of this package is a `ShmQueueError` with a stable `code`; users match on `code`, not on
 * messages. One subclass per failure so `instanceof` works too.
 */
export type ShmQueueErrorCode =
  | 'SHMQ_ERR_INVALID_ARGUMENT'
  | 'SHMQ_ERR_NOT_A_RING'
  | 'SHMQ_ERR_VERSION'
  | 'SHMQ_ERR_TRUNCATED'
  | 'SHMQ_ERR_CORRUPT_HEADER'
  | 'SHMQ_ERR_CORRUPT_RECORD'
  | 'SHMQ_ERR_NO_FREE_SLOT'
  | 'SHMQ_ERR_RECORD_TOO_LARGE'
  | 'SHMQ_ERR_SEGMENT_EXISTS'
  | 'SHMQ_ERR_SEGMENT_NOT_FOUND'
  | 'SHMQ_ERR_SYSTEM'
  | 'SHMQ_ERR_CLOSED'
  | 'SHMQ_ERR_WRITER_GONE'
  | 'SHMQ_ERR_EVICTED'
  | 'SHMQ_ERR_DOORBELL'
  | 'SHMQ_ERR_NATIVE_ADDON'
  | 'SHMQ_ERR_NO_BINARY';

export class ShmQueueError extends Error {
  readonly code: ShmQueueErrorCode;
  constructor(code: ShmQueueErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An option or argument is out of its documented range. */
export class InvalidArgumentError extends ShmQueueError {
  constructor(message: string) {
    super('SHMQ_ERR_INVALID_ARGUMENT', message);
  }
}

/** The segment exists but does not start with the ring's magic number. */
export class NotARingError extends ShmQueueError {
  constructor(name: string) {
    super('SHMQ_ERR_NOT_A_RING', `shared-memory segment "${name}" is not a @wsproxy/shm-queue ring`);
  }
}

/** The ring was written by a different, incompatible layout version. */
export class LayoutVersionError extends ShmQueueError {
  readonly found: number;
  readonly expected: number;
  constructor(name: string, found: number, expected: number) {
    super(
      'SHMQ_ERR_VERSION',
      `ring "${name}" has layout version ${found}; this library reads version ${expected}`,
    );
    this.found = found;
    this.expected = expected;
  }
}

/** The segment is smaller than its header says it must be. */
export class TruncatedSegmentError extends ShmQueueError {
  constructor(name: string, size: number, needed: number) {
    super('SHMQ_ERR_TRUNCATED', `ring "${name}" is ${size} bytes long but its header needs ${needed}`);
  }
}

/** The header carries the right magic and version but impossible values. */
export class CorruptHeaderError extends ShmQueueError {
  constructor(name: string, detail: string) {
    super('SHMQ_ERR_CORRUPT_HEADER', `ring "${name}" has a corrupt header: ${detail}`);
  }
}

/** A record header that cannot be right (length out of range, sequence going backwards, bad padding). */
export class CorruptRecordError extends ShmQueueError {
  readonly position: number;
  constructor(name: string, position: number, detail: string) {
    super(
      'SHMQ_ERR_CORRUPT_RECORD',
      `ring "${name}" has a corrupt record at position ${position}: ${detail}`,
    );
    this.position = position;
  }
}

/** Every reader slot (or the one asked for) is held by a live process. */
export class NoFreeSlotError extends ShmQueueError {
  constructor(name: string, maxReaders: number, slot?: number) {
    super(
      'SHMQ_ERR_NO_FREE_SLOT',
      slot === undefined
        ? `ring "${name}" has no free reader slot (all ${maxReaders} are held by live processes)`
        : `reader slot ${slot} of ring "${name}" is held by a live process`,
    );
  }
}

/** A payload larger than the ring's `maxRecordSize`. */
export class RecordTooLargeError extends ShmQueueError {
  readonly size: number;
  readonly maxRecordSize: number;
  constructor(size: number, maxRecordSize: number) {
    super('SHMQ_ERR_RECORD_TOO_LARGE', `record of ${size} bytes exceeds maxRecordSize ${maxRecordSize}`);
    this.size = size;
    this.maxRecordSize = maxRecordSize;
  }
}

export class SegmentExistsError extends ShmQueueError {
  constructor(name: string) {
    super('SHMQ_ERR_SEGMENT_EXISTS', `shared-memory segment "${name}" already exists`);
  }
}

export class SegmentNotFoundError extends ShmQueueError {
  constructor(name: string) {
    super('SHMQ_ERR_SEGMENT_NOT_FOUND', `shared-memory segment "${name}" does not exist`);
  }
}

/** An operating-system call failed; `errno` holds the OS code (EACCES, ENOMEM, ...). */
export class SystemError extends ShmQueueError {
  readonly errno: string;
  constructor(errno: string, message: string, cause?: unknown) {
    super('SHMQ_ERR_SYSTEM', `${message} (${errno})`, { cause });
    this.errno = errno;
  }
}

/** The writer or reader was used after `close()`. */
export class ClosedError extends ShmQueueError {
  constructor(what: string) {
    super('SHMQ_ERR_CLOSED', `${what} is closed`);
  }
}

/** The writer process went away without closing the ring (its doorbell connection dropped). */
export class WriterGoneError extends ShmQueueError {
  constructor(name: string, detail = 'the writer disconnected without closing the ring') {
    super('SHMQ_ERR_WRITER_GONE', `ring "${name}": ${detail}`);
  }
}

/** This reader's slot was freed by someone else (the writer took it for dead); reopen to read again. */
export class ReaderEvictedError extends ShmQueueError {
  readonly slot: number;
  constructor(name: string, slot: number) {
    super('SHMQ_ERR_EVICTED', `ring "${name}": reader slot ${slot} was released by another process`);
    this.slot = slot;
  }
}

/** The doorbell socket could not be set up. */
export class DoorbellError extends ShmQueueError {
  constructor(message: string, cause?: unknown) {
    super('SHMQ_ERR_DOORBELL', message, { cause });
  }
}

/** The addon's binary was found but does not load here (or the local build asked for is missing). */
export class NativeAddonError extends ShmQueueError {
  constructor(message: string, cause?: unknown) {
    super('SHMQ_ERR_NATIVE_ADDON', message, { cause });
  }
}

/**
 * No binary for this platform is installed: its platform package (`packageName`) was left out of the install, or
 * none is published for `platform` (`packageName` undefined).
 */
export class NoBinaryError extends ShmQueueError {
  readonly platform: string;
  readonly packageName: string | undefined;
  constructor(platform: string, packageName: string | undefined, message: string, cause?: unknown) {
    super('SHMQ_ERR_NO_BINARY', message, { cause });
    this.platform = platform;
    this.packageName = packageName;
  }
}
