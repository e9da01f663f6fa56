import {
  CorruptHeaderError,
  InvalidArgumentError,
  LayoutVersionError,
  NotARingError,
  SystemError,
  TruncatedSegmentError,
} from './errors.js';
import {
  dataOffsetFor,
  FLAG_BACK_PRESSURE,
  H_CAPACITY,
  H_DATA_OFFSET,
  H_FLAGS,
  H_MAGIC,
  H_MAX_READERS,
  H_MAX_RECORD,
  H_RECORD_ALIGN,
  H_SLOT_BYTES,
  H_VERSION,
  H_WRITER_PID,
  H_WRITER_STATE,
  HEADER_BYTES,
  LAYOUT_VERSION,
  MAGIC,
  RECORD_ALIGN,
  RECORD_HEADER_BYTES,
  SLOT_BYTES,
  WRITER_OPEN,
} from './layout.js';
import { Segment } from './segment.js';

/** The ring's shape, fixed at creation and read back from the header by every opener. */
export interface RingGeometry {
  readonly capacity: number;
  readonly maxReaders: number;
  readonly maxRecordSize: number;
  readonly backPressure: boolean;
  readonly dataOffset: number;
}

export const MIN_CAPACITY = 4096;
export const MAX_CAPACITY = 2 ** 30;
export const MAX_READERS_LIMIT = 4096;

export interface GeometryOptions {
  capacity?: number;
  maxReaders?: number;
  maxRecordSize?: number;
  backPressure?: boolean;
}

export const defaultGeometry = {
  capacity: 4 * 1024 * 1024,
  maxReaders: 64,
  backPressure: false,
} as const;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Largest payload that keeps at least four records in the ring, so one record can never lap a reader alone. */
export function maxRecordSizeFor(capacity: number): number {
  return capacity / 4 - RECORD_HEADER_BYTES;
}

export function normaliseGeometry(options: GeometryOptions): RingGeometry {
  const capacity = options.capacity ?? defaultGeometry.capacity;
  if (!isPowerOfTwo(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY) {
    throw new InvalidArgumentError(
      `capacity must be a power of two between ${MIN_CAPACITY} and ${MAX_CAPACITY} bytes, got ${capacity}`,
    );
  }
  const maxReaders = options.maxReaders ?? defaultGeometry.maxReaders;
  if (!Number.isInteger(maxReaders) || maxReaders < 1 || maxReaders > MAX_READERS_LIMIT) {
    throw new InvalidArgumentError(
      `maxReaders must be an integer from 1 to ${MAX_READERS_LIMIT}, got ${maxReaders}`,
    );
  }
  const limit = maxRecordSizeFor(capacity);
  const maxRecordSize = options.maxRecordSize ?? limit;
  if (!Number.isInteger(maxRecordSize) || maxRecordSize < 1 || maxRecordSize > limit) {
    throw new InvalidArgumentError(
      `maxRecordSize must be an integer from 1 to ${limit} (capacity / 4 - ${RECORD_HEADER_BYTES}), got ${maxRecordSize}`,
    );
  }
  return {
    capacity,
    maxReaders,
    maxRecordSize,
    backPressure: options.backPressure ?? defaultGeometry.backPressure,
    dataOffset: dataOffsetFor(maxReaders),
  };
}

/** Creates the segment and writes its header; the magic goes last so a half-made ring never looks valid. */
export function createRingSegment(name: string, geometry: RingGeometry): Segment {
  const segment = Segment.create(name, geometry.dataOffset + geometry.capacity);
  const words = new Int32Array(segment.buffer);
  Atomics.store(words, H_VERSION, LAYOUT_VERSION);
  Atomics.store(words, H_DATA_OFFSET, geometry.dataOffset);
  Atomics.store(words, H_CAPACITY, geometry.capacity);
  Atomics.store(words, H_MAX_READERS, geometry.maxReaders);
  Atomics.store(words, H_SLOT_BYTES, SLOT_BYTES);
  Atomics.store(words, H_RECORD_ALIGN, RECORD_ALIGN);
  Atomics.store(words, H_FLAGS, geometry.backPressure ? FLAG_BACK_PRESSURE : 0);
  Atomics.store(words, H_MAX_RECORD, geometry.maxRecordSize);
  Atomics.store(words, H_WRITER_PID, process.pid);
  Atomics.store(words, H_WRITER_STATE, WRITER_OPEN);
  Atomics.store(words, H_MAGIC, MAGIC);
  return segment;
}

/** Opens an existing ring and checks every header field before anything trusts it. */
export function openRingSegment(name: string): { segment: Segment; geometry: RingGeometry } {
  let segment: Segment;
  try {
    segment = Segment.open(name);
  } catch (error) {
    if (error instanceof SystemError && error.errno === 'ENODATA')
      throw new TruncatedSegmentError(name, 0, HEADER_BYTES);
    throw error;
  }
  try {
    return { segment, geometry: readGeometry(name, segment) };
  } catch (error) {
    segment.close();
    throw error;
  }
}

function readGeometry(name: string, segment: Segment): RingGeometry {
  if (segment.size < 8) throw new TruncatedSegmentError(name, segment.size, HEADER_BYTES);
  const words = new Int32Array(segment.buffer, 0, Math.min(segment.size, HEADER_BYTES) >> 2);
  if (Atomics.load(words, H_MAGIC) !== MAGIC) throw new NotARingError(name);
  const version = Atomics.load(words, H_VERSION);
  if (version !== LAYOUT_VERSION) throw new LayoutVersionError(name, version, LAYOUT_VERSION);
  if (segment.size < HEADER_BYTES) throw new TruncatedSegmentError(name, segment.size, HEADER_BYTES);
  const capacity = Atomics.load(words, H_CAPACITY);
  const maxReaders = Atomics.load(words, H_MAX_READERS);
  const dataOffset = Atomics.load(words, H_DATA_OFFSET);
  const maxRecordSize = Atomics.load(words, H_MAX_RECORD);
  const flags = Atomics.load(words, H_FLAGS);
  if (!isPowerOfTwo(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY) {
    throw new CorruptHeaderError(name, `capacity ${capacity} is not a power of two in range`);
  }
  if (maxReaders < 1 || maxReaders > MAX_READERS_LIMIT) {
    throw new CorruptHeaderError(name, `maxReaders ${maxReaders} out of range`);
  }
  if (dataOffset !== dataOffsetFor(maxReaders)) {
    throw new CorruptHeaderError(name, `data offset ${dataOffset} does not match ${maxReaders} reader slots`);
  }
  if (
    Atomics.load(words, H_SLOT_BYTES) !== SLOT_BYTES ||
    Atomics.load(words, H_RECORD_ALIGN) !== RECORD_ALIGN
  ) {
    throw new CorruptHeaderError(name, 'slot size or record alignment differs from this layout version');
  }
  if (maxRecordSize < 1 || maxRecordSize > maxRecordSizeFor(capacity)) {
    throw new CorruptHeaderError(name, `maxRecordSize ${maxRecordSize} out of range`);
  }
  const needed = dataOffset + capacity;
  if (segment.size < needed) throw new TruncatedSegmentError(name, segment.size, needed);
  return {
    capacity,
    maxReaders,
    maxRecordSize,
    backPressure: (flags & FLAG_BACK_PRESSURE) !== 0,
    dataOffset,
  };
}
