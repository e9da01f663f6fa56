import type { DaemonStatus, UpstreamStatus } from '@wsproxy/protocol';

/** One upstream's part of `/readyz`. */
export interface UpstreamReadiness {
  readonly connectionId: number;
  /** Display URL: never credentials or query secrets. */
  readonly url: string;
  readonly state: UpstreamStatus['state'];
  readonly ready: boolean;
  /** Why it is not ready; absent when it is. */
  readonly reason?: string;
}

export interface Readiness {
  /** Every upstream is open and (where its protocol authenticates) authenticated. True with no upstream at all. */
  readonly ready: boolean;
  readonly upstreams: readonly UpstreamReadiness[];
}

function upstreamReadiness(upstream: UpstreamStatus): UpstreamReadiness {
  const base = { connectionId: upstream.connectionId, url: upstream.url, state: upstream.state };
  if (upstream.state !== 'open') {
    const why = upstream.stateReason ?? upstream.adapterStats?.lastError;
    return { ...base, ready: false, reason: why ? `${upstream.state}: ${why}` : upstream.state };
  }
  if (upstream.adapterStats?.authenticated === false) {
    const why = upstream.adapterStats.lastError;
    return { ...base, ready: false, reason: why ? `not authenticated: ${why}` : 'not authenticated' };
  }
  return { ...base, ready: true };
}

/**
 * What `/readyz` answers, from the same status report `wsproxy status` prints. A daemon with no upstream is ready:
 * it serves, and nothing it holds is broken (a load balancer should not pull it for being idle).
 */
export function readiness(status: DaemonStatus): Readiness {
  const upstreams = status.upstreams.map(upstreamReadiness);
  return { ready: upstreams.every((upstream) => upstream.ready), upstreams };
}
