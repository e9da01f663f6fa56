// @wsproxy/protocol: every message between a wsproxy client and its daemon, on both paths.
// Control (Unix socket): ./control. Data and events in the shared-memory ring: ./record.

export {
  controlBodyLength,
  controlFrameLength,
  decodeControlBody,
  decodeControlFrame,
  encodeControlBodyInto,
  encodeControlFrame,
  encodeControlFrameInto,
} from './control/codec.js';
export {
  DOORBELL,
  DOORBELL_BYTE,
  ERROR_WITH_VENDOR_CODE_TYPE,
  FRAME_HEADER_BYTES,
  FRAME_MARK,
  HELLO_MAGIC,
  LOG_LEVELS,
  LogLevelCode,
  MessageTypeCode,
  OPEN_WITH_MODULE_TYPE,
  SUBSCRIBED_WITH_STATE_TYPE,
  UNSUBSCRIBED_WITH_STATE_TYPE,
} from './control/constants.js';
export type {
  ClientMessage,
  ClientRequest,
  CloseRequest,
  ControlMessage,
  ControlMessageType,
  Credentials,
  DaemonMessage,
  DaemonResponse,
  ErrorResponse,
  EventMessage,
  Header,
  Hello,
  LogLevel,
  OkResponse,
  OpenedResponse,
  OpenRequest,
  Refused,
  RestoreRequest,
  SendRequest,
  SetLogLevelRequest,
  StatusRequest,
  StatusResponse,
  SubscribedResponse,
  SubscribeRequest,
  UnsubscribedResponse,
  UnsubscribeRequest,
  Welcome,
} from './control/messages.js';
export { redactControlMessage } from './control/redact.js';
export {
  ControlStreamDecoder,
  type ControlStreamHandlers,
  type ControlStreamOptions,
} from './control/stream.js';
export { DaemonErrorCode, isDaemonErrorCode } from './error-codes.js';
export {
  BadUtf8Error,
  BadVersionError,
  BufferTooSmallError,
  InvalidArgumentError,
  MalformedFrameError,
  OverLimitError,
  ProtocolError,
  ProtocolErrorCode,
  TruncatedFrameError,
  UnknownTypeError,
  VersionMismatchError,
  type VersionRange,
} from './errors.js';
export type {
  ClosedEvent,
  ConnectionEvent,
  ConnectionEventKind,
  ErrorEvent,
  GapEvent,
  ReconnectedEvent,
  ReconnectingEvent,
} from './events.js';
export { ERROR_WITH_VENDOR_CODE_KIND, EventKindCode } from './events.js';
export {
  DEFAULT_LIMITS,
  MAX_FRAME_BYTES,
  MAX_HEADER_BYTES,
  MAX_HEADER_COUNT,
  MAX_PARAMS_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_READER_SLOTS,
  MAX_STATUS_BYTES,
  MAX_STRING_BYTES,
  MAX_URL_BYTES,
  type ProtocolLimits,
  resolveLimits,
  WIRE_CEILINGS,
} from './limits.js';
export {
  type DataRecordInit,
  dataRecordLength,
  decodeRecordEvent,
  decodeRingRecord,
  decodeRingRecordInto,
  encodeDataRecord,
  encodeDataRecordInto,
  encodeEventRecord,
  encodeEventRecordInto,
  eventRecordLength,
  ringRecordIsFor,
} from './record/codec.js';
export {
  FragmentAssembler,
  type FragmentAssemblerOptions,
  type FragmentLoss,
  fragmentPayload,
  maxFragmentPayload,
  type PayloadPart,
} from './record/fragments.js';
export { RecipientSet, type Recipients } from './record/recipients.js';
export {
  type FragmentInfo,
  RECORD_FRAGMENT_BYTES,
  RECORD_HEADER_BYTES,
  RecordFlag,
  RecordKindCode,
  RingRecord,
} from './record/ring-record.js';
export type {
  AdapterStats,
  AdapterStatus,
  ClientStatus,
  DaemonInfo,
  DaemonStatus,
  EndpointConnectionStatus,
  EndpointStatus,
  RingStatus,
  StatusTruncation,
  TruncatedList,
  UpstreamFailureStatus,
  UpstreamState,
  UpstreamStatus,
} from './status.js';
export {
  ADAPTER_MODULE_VERSION,
  assertAcceptedVersion,
  MIN_PROTOCOL_VERSION,
  negotiateVersion,
  PROTOCOL_VERSION,
  SUBSCRIPTION_STATE_VERSION,
  SUPPORTED_VERSIONS,
  VENDOR_CODE_VERSION,
  versionMismatchFromRefusal,
} from './version.js';
export { decodeText } from './wire/utf8.js';
