import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { type KV, Kvm } from '@nats-io/kv';
import {
  type Authenticator,
  connect,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
} from '@nats-io/transport-node';

/** How a daemon joins the cluster's NATS: what `--cluster` and its companion options say. */
export interface ClusterOptions {
  /** NATS client URLs (`nats://host:4222`, `tls://host:4222`). */
  readonly servers: readonly string[];
  /** The daemon's namespace: daemons of one namespace form one cluster; it names the bucket and subjects. */
  readonly namespace: string;
  /** PEM files for TLS to NATS (all optional: a `tls://` URL with the system CAs needs none). */
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  /** A NATS `.creds` file (user JWT + nkey seed). */
  readonly credsFile?: string;
  /** A file holding an nkey seed (`SU...`). */
  readonly nkeySeedFile?: string;
  /**
   * Whether to learn the cluster's other servers from the one it reaches (NATS gossip) and fail over to them.
   * Default true: a daemon whose local NATS server dies keeps its session through another. False pins the daemon
   * to the listed servers (a host that must only ever use its own NATS), so losing them is a partition.
   */
  readonly discoverServers?: boolean;
  /**
   * JetStream replicas of the buckets when this daemon creates them. Default 3, so leases and demand survive the
   * loss of any one server of a 3-server NATS cluster; 1 for a single NATS server.
   */
  readonly replicas?: number;
  /** The lease TTL in ms when this daemon creates the bucket; an existing bucket's TTL wins. */
  readonly leaseTtlMs?: number;
}

export const DEFAULT_LEASE_TTL_MS = 3000;
const RECONNECT_WAIT_MS = 200;

export interface ClusterConnection {
  readonly nc: NatsConnection;
  /** The lease bucket (KV with max_age = lease TTL). */
  readonly leases: KV;
  /** Each host's demand per session (KV with the same max_age: a dead host's demand expires with it). */
  readonly demand: KV;
  readonly namespace: string;
  /** The TTL in force (the bucket's). */
  readonly leaseTtlMs: number;
  readonly host: string;
  close(): Promise<void>;
}

/** Namespaces may hold characters a bucket name may not; this keeps them apart without collisions in practice. */
export function bucketName(namespace: string, purpose: 'leases' | 'demand'): string {
  return `wsproxy_${namespace.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}_${purpose}`;
}

/**
 * Opens a bucket, creating it with this daemon's settings when none exists yet (an existing one's settings win).
 * Daemons of a cluster often start together, and JetStream may time out a create that races another one: try
 * again (bounded) until the bucket exists, then until it serves.
 */
async function openBucket(kvm: Kvm, name: string, ttl: number, replicas: number): Promise<KV> {
  const deadline = Date.now() + BUCKET_READY_TIMEOUT_MS;
  for (;;) {
    try {
      const kv = await kvm.open(name);
      await kv.status();
      await untilServing(kv, name, deadline);
      return kv;
    } catch {
      // Not there yet: create it below.
    }
    try {
      const kv = await kvm.create(name, { ttl, history: 1, replicas });
      await untilServing(kv, name, deadline);
      return kv;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`NATS bucket ${name} could not be opened or created in 20 s`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

const BUCKET_READY_TIMEOUT_MS = 20_000;

/**
 * A just-created replicated bucket exists before its stream has a leader, and a write then gets "no responders".
 * Daemons of a cluster start at the same time, so wait (bounded, at start only) until the bucket answers a read.
 */
async function untilServing(kv: KV, name: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      await kv.get('ready');
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`NATS bucket ${name} did not become ready in 20 s`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function authenticator(options: ClusterOptions): Authenticator | undefined {
  // Read the files here, once: the secrets stay in this process and go to the NATS server only as its handshake.
  if (options.credsFile) return credsAuthenticator(readFileSync(options.credsFile));
  if (options.nkeySeedFile)
    return nkeyAuthenticator(readFileSync(options.nkeySeedFile, 'utf8').trim() as never);
  return undefined;
}

export async function connectCluster(options: ClusterOptions): Promise<ClusterConnection> {
  const host = hostname();
  const auth = authenticator(options);
  const nc = await connect({
    servers: [...options.servers],
    name: `wsproxy:${options.namespace}@${host}`,
    // A daemon outlives NATS outages: keep redialling every server of the list.
    maxReconnectAttempts: -1,
    // nats.js waits 2 s between attempts by default: longer than a holder may go unrenewed. Redial fast enough
    // that a holder whose NATS server died reaches another one well within its lease.
    reconnectTimeWait: RECONNECT_WAIT_MS,
    reconnectJitter: RECONNECT_WAIT_MS / 2,
    ignoreClusterUpdates: options.discoverServers === false,
    ...(options.tls ? { tls: { ...options.tls } } : {}),
    ...(auth ? { authenticator: auth } : {}),
  });
  try {
    const kvm = new Kvm(nc);
    const ttl = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    const replicas = options.replicas ?? 3;
    const leases = await openBucket(kvm, bucketName(options.namespace, 'leases'), ttl, replicas);
    const leaseTtlMs = (await leases.status()).ttl || ttl;
    const demand = await openBucket(kvm, bucketName(options.namespace, 'demand'), leaseTtlMs, replicas);
    return { nc, leases, demand, namespace: options.namespace, leaseTtlMs, host, close: () => nc.close() };
  } catch (error) {
    await nc.close();
    throw error;
  }
}
