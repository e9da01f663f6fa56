// Daemon side: the shared session, its parts, and the router (also used by the repository's benchmarks).
export { AccountSession, type AccountSessionOptions, type AccountStats } from './account-stream.js';
export {
  type AlpacaCredentials,
  CredentialCheck,
  credentialsFromAuthMessage,
  credentialsFromEnv,
} from './auth.js';
export {
  type AlpacaAdapterOptions,
  alpacaAdapter,
  createAlpacaAdapter,
  restBaseUrlFor,
} from './daemon-adapter.js';
export {
  type AlpacaEndpointOptions,
  alpacaEndpointOptionsFromEnv,
  alpacaPathFor,
  createAlpacaEndpoint,
} from './endpoint.js';
export { transcodeFrame } from './endpoint-transcode.js';
export {
  ALPACA_ERROR_MESSAGES,
  AlpacaAdapterError,
  type AlpacaAdapterErrorCode,
  AlpacaRejectedError,
  BadParamsError,
  catalogueCode,
  InvalidArgumentError,
  MalformedFrameError,
  SnapshotFetchError,
  StreamClosedError,
  UpstreamError,
} from './errors.js';
export {
  type AlpacaStreamTarget,
  classifyAlpacaUrl,
  type Encoding,
  FEED_PROFILES,
  type FeedKind,
  type FeedProfile,
} from './feeds.js';
export { FrameItems } from './frame-items.js';
export { scanJsonItems } from './json-items.js';
export { LatestCache } from './latest-cache.js';
export { scanMsgpackItems } from './msgpack-items.js';
export { type BookLevel, OrderBook, type OrderbookMessage } from './order-book.js';
export {
  AlpacaRouter,
  type ClientId,
  RecipientSet,
  type RoutedRecord,
  type RouteResult,
  type RouterOptions,
  type RoutingTable,
} from './router.js';
export type { RequestAnswer } from './session.js';
export {
  AlpacaSession,
  type AlpacaSessionOptions,
  type AttachOptions,
  type SessionEvent,
  type SessionOutput,
  type SessionStats,
} from './session.js';
export {
  type RestSnapshotOptions,
  RestSnapshotSource,
  type SnapshotSource,
  type SymbolSnapshot,
} from './snapshot.js';
// Client side: the typed stream a strategy uses.
export {
  AlpacaAccountStream,
  type AlpacaAccountStreamEvents,
  AlpacaStream,
  type AlpacaStreamEvents,
  type AlpacaStreamOptions,
  type AlpacaTransport,
  daemonAdapterArgument,
  feedPath,
} from './stream.js';
export {
  type BookSink,
  type BookStats,
  type ChannelSymbols,
  type CommittedChange,
  type SubscriptionAction,
  SubscriptionBook,
  type SubscriptionRequest,
} from './subscription-book.js';
export { type ParsedRequest, parseSubscriptionRequest } from './subscription-request.js';
export * from './types.js';
