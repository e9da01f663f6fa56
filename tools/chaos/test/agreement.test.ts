// The agreement check on recorded state: the three views (strategy, daemon per-client set, upstream session) and
// the reader of the daemon's per-client sets, on status reports shaped like the daemon's.
import type { ChildProcess } from 'node:child_process';
import type { MockSession } from '@wsproxy/alpaca-mock';
import type { DaemonStatus } from '@wsproxy/protocol';
import { describe, expect, it } from 'vitest';
import { daemonClientSets } from '../src/daemon.js';
import { Life } from '../src/fleet.js';
import { checkAgreement, type Observed } from '../src/invariants.js';
import { toChannelSet } from '../src/subscriptions.js';

function status(upstream: Record<string, unknown>): DaemonStatus {
  return {
    upstreams: [{ connectionId: 1, clients: [1, 2], ...upstream }],
    endpoint: { url: 'ws://127.0.0.1:1', connections: [{ clientId: 2, remote: '127.0.0.1:5555' }] },
  } as unknown as DaemonStatus;
}

function whole(name: string): Life {
  const life = new Life(name, 'shm', { pid: 1 } as ChildProcess);
  life.windows[0]!.to = life.startedAt;
  return life;
}

const session = (subscriptions: Record<string, string[]>) =>
  ({ id: 7, subscriptions: () => subscriptions }) as unknown as MockSession;

describe('daemon per-client sets', () => {
  it('reads upstreams[].subscriptions keyed by client id, and says when the report has none', () => {
    const sets = daemonClientSets(
      status({ subscriptions: { '1': { trades: ['AAPL'], corrections: ['AAPL'] } } }),
    );
    expect(sets?.get(1)).toEqual(toChannelSet({ trades: ['AAPL'] }));
    expect(daemonClientSets(status({}))).toBeUndefined();
  });
});

describe('agreement', () => {
  const shm: Observed = {
    life: whole('shm'),
    view: toChannelSet({ trades: ['AAPL'] }),
    clientId: 1,
    localPort: undefined,
  };
  const endpoint: Observed = {
    life: whole('endpoint'),
    view: toChannelSet({ quotes: ['MSFT'] }),
    clientId: undefined,
    localPort: 5555,
  };

  it('holds when each view is the daemon set and the upstream holds the union', () => {
    const report = status({ subscriptions: { '1': { trades: ['AAPL'] }, '2': { quotes: ['MSFT'] } } });
    const agreement = checkAgreement([shm, endpoint], report, [
      session({ trades: ['AAPL'], quotes: ['MSFT'], bars: [] }),
    ]);
    expect(agreement).toEqual({ discrepancies: [], daemonSetsChecked: true });
  });

  it('names the process whose view differs from the daemon, and an upstream holding more than the union', () => {
    const report = status({
      subscriptions: { '1': { trades: ['AAPL', 'MSFT'] }, '2': { quotes: ['MSFT'] } },
    });
    const { discrepancies } = checkAgreement([shm, endpoint], report, [
      session({ trades: ['AAPL', 'MSFT'], quotes: ['MSFT'] }),
    ]);
    expect(discrepancies).toHaveLength(2);
    expect(discrepancies[0]).toContain('shm (client 1) sees trades:[AAPL]');
    expect(discrepancies[1]).toContain('the upstream (session 7) holds trades:[AAPL,MSFT]');
  });

  it('flags a strategy still told it is reconnecting, and a missing upstream session', () => {
    const stuck = whole('stuck');
    stuck.windows.push({ from: Date.now(), to: undefined, why: 'reconnecting' });
    const { discrepancies, daemonSetsChecked } = checkAgreement([{ ...shm, life: stuck }], status({}), []);
    expect(daemonSetsChecked).toBe(false);
    expect(discrepancies.join('\n')).toMatch(
      /stuck is still in a loss window[\s\S]*no authenticated upstream session/,
    );
  });
});
