// @wsproxy/proxy-server: the daemon that holds upstream WebSockets and shares them with local processes.
export {
  type AdapterContext,
  type ClientId,
  passthrough,
  type SubscribeResult,
  type UnsubscribeResult,
  type UpstreamAdapter,
  type UpstreamAdapterFactory,
  type UpstreamFrame,
} from './adapter.js';
export { fetchStatus } from './control-client.js';
export { Daemon, type DaemonOptions, type RingOptions } from './daemon.js';
export { daemonEntryPath, EXIT_ALREADY_RUNNING } from './daemon-entry.js';
export { socketIsLive } from './daemon-socket.js';
export type {
  EndpointConnection,
  EndpointConnectionHandler,
  EndpointFrame,
  EndpointProtocol,
  EndpointUpgrade,
} from './endpoint/endpoint-protocol.js';
export { isLoopback, type ListenAddress, parseListenAddress } from './endpoint/listen-address.js';
export { FIRST_ENDPOINT_CLIENT_ID, type LocalEndpointOptions } from './endpoint/local-endpoint.js';
export {
  type AdapterBuild,
  AdapterLoadError,
  AdapterMismatchError,
  CredentialsMismatchError,
  DaemonAlreadyRunningError,
  InsecureRuntimeDirError,
  InvalidArgumentError,
  InvalidUrlError,
  NotSupportedError,
  UnknownAdapterError,
  UpstreamUnreachableError,
  WsproxyServerError,
} from './errors.js';
export {
  type ControlLimits,
  DEFAULT_CONTROL_LIMITS,
  DEFAULT_DIAL_LIMITS,
  type DialLimits,
} from './limits.js';
export { LOG_LEVELS, type LogLevel } from './logging.js';
export { ringScope } from './ring-segments.js';
export {
  DEFAULT_NAMESPACE,
  ensureRuntimeDir,
  type RuntimePaths,
  runtimeDirFor,
  runtimePaths,
  validateNamespace,
} from './runtime-dir.js';
export type { ReconnectOptions } from './upstream/backoff.js';
export { CREDENTIAL_HEADERS, HARMLESS_HEADERS } from './upstream/credential-identity.js';
export { DialRateLimitedError } from './upstream/dial-guard.js';
export {
  type UpstreamConnectionOptions,
  type UpstreamState,
  type UpstreamTlsOptions,
  validateUpstreamUrl,
} from './upstream/upstream-connection.js';
export type { OpenUpstreamRequest, UpstreamDefaults } from './upstream/upstream-registry.js';
