// The cluster layer: loaded only by `wsproxy start --cluster` (a dynamic import), so a daemon without it never
// loads a NATS module.
export {
  bucketName,
  type ClusterConnection,
  type ClusterOptions,
  connectCluster,
  DEFAULT_LEASE_TTL_MS,
} from './cluster-connection.js';
export { sessionKey } from './session-key.js';
export {
  type LeaseRecord,
  type LeaseState,
  SessionLease,
  type SessionLeaseOptions,
} from './session-lease.js';
