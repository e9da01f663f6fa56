export { STREAM_ERRORS, type StreamErrorCode } from './alpaca-errors.js';
export { decodeFrame, type Encoding, encodeFrame, encodeMsgpack } from './codec.js';
export { ENDPOINT_PATHS } from './endpoints.js';
export {
  AlpacaMockError,
  FrameDecodeError,
  InvalidOptionError,
  ListenError,
  MockClosedError,
  UsageError,
  WaitTimeoutError,
} from './errors.js';
export { TEST_SYMBOL } from './market/index.js';
export {
  type AlpacaMockOptions,
  DEFAULT_KEY,
  DEFAULT_OPTIONS,
  DEFAULT_SECRET,
  type KeyPair,
  type OAuthToken,
  RATE_PRESETS,
  type ResolvedOptions,
  resolveOptions,
  type SymbolUniverse,
  type UpgradeRateLimit,
} from './options.js';
export {
  AlpacaMock,
  type AuthRefusal,
  type RestartOptions,
  type SessionFilter,
  startAlpacaMock,
} from './server.js';
export type { MockSession, SessionStats } from './session.js';
export type { SubscriptionMap } from './subscriptions.js';
export { NanoTime } from './time.js';
