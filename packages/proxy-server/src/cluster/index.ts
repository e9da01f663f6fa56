// The cluster layer: loaded only by `wsproxy start --cluster` (a dynamic import), so a daemon without it never
// loads a NATS module.
export {
  bucketName,
  type ClusterConnection,
  type ClusterOptions,
  connectCluster,
  DEFAULT_LEASE_TTL_MS,
} from './cluster-connection.js';
export { ClusterSession, type ClusterSessionOptions, type SessionRole } from './cluster-session.js';
export { ClusterUnion, type DemandBoardOptions, HostDemand, type UnionChange } from './demand-board.js';
export { ItemFeed, publishItem, splitTopic, topicOf } from './item-feed.js';
export { decodeToken, encodeToken, interestSubject, itemSubject, parseItemSubject } from './item-subjects.js';
export { sessionKey } from './session-key.js';
export {
  type LeaseRecord,
  type LeaseState,
  SessionLease,
  type SessionLeaseOptions,
} from './session-lease.js';
