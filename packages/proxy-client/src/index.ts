// @wsproxy/client: what a strategy imports to share one upstream WebSocket with its sibling processes.

// What this package's API hands out from @wsproxy/protocol (a refused version, `status()`'s report): importable from
// here, so a strategy needs no second package to catch or type them.
export { type DaemonStatus, VersionMismatchError } from '@wsproxy/protocol';
export type { IdleChange, IdleDegradeReason, IdleStrategy } from '@wsproxy/shm-queue';
export { type WebsocketProxyCallback, WebsocketProxyClient } from './callback-facade.js';
export {
  type ClientReconnectedInfo,
  type ClientState,
  connect,
  WsproxyClient,
  type WsproxyClientEvents,
} from './client.js';
export {
  AdapterLoadError,
  AdapterMismatchError,
  AuthFailedError,
  BadUrlError,
  CredentialsMismatchError,
  daemonError,
  ProtocolViolationError,
  RateLimitedError,
  SubscriptionRejectedError,
  UpstreamClosedError,
  UpstreamLimitError,
  UpstreamUnreachableError,
} from './daemon-errors.js';
export {
  ClosedError,
  DaemonDisconnectedError,
  DaemonRequestError,
  DaemonSpawnError,
  DaemonUnavailableError,
  HandshakeRefusedError,
  InvalidArgumentError,
  WsproxyClientError,
} from './errors.js';
export type { ConnectOptions, OpenOptions } from './options.js';
export {
  type CloseInfo,
  type GapInfo,
  type ReconnectCause,
  type ReconnectedInfo,
  type ReconnectingInfo,
  type RestoredSubscriptions,
  SharedSocket,
  type SharedSocketEvents,
  type SharedSocketState,
  type SocketFragment,
  type SocketMessage,
  type SubscribeAnswer,
  type UnsubscribeAnswer,
} from './shared-socket.js';
