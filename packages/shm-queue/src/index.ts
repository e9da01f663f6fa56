export { type ConnectDoorbellOptions, connectDoorbell, DoorbellConnection } from './doorbell/client.js';
export { defaultDoorbellPath } from './doorbell/path.js';
export { DoorbellServer, type DoorbellServerOptions } from './doorbell/server.js';
export {
  ClosedError,
  CorruptHeaderError,
  CorruptRecordError,
  DoorbellError,
  InvalidArgumentError,
  LayoutVersionError,
  NativeAddonError,
  NoBinaryError,
  NoFreeSlotError,
  NotARingError,
  ReaderEvictedError,
  RecordTooLargeError,
  SegmentExistsError,
  SegmentNotFoundError,
  ShmQueueError,
  type ShmQueueErrorCode,
  SystemError,
  TruncatedSegmentError,
  WriterGoneError,
} from './errors.js';
export { LAYOUT_VERSION } from './layout.js';
export {
  type GapInfo,
  type IdleChange,
  type IdleDegradeReason,
  type IdleStrategy,
  type RecordHandler,
  RingReader,
  type RingReaderOptions,
} from './reader.js';
export { Segment } from './segment.js';
export { type ReaderInfo, RingWriter, type RingWriterOptions, type WakeHandler } from './writer.js';
