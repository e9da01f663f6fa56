// What `wsproxy top` shows: pure text from two consecutive status reports (rates are the difference over the time
// between them). No I/O here, so the layout can be read and tested apart from the terminal handling.

import type { DaemonStatus } from '@wsproxy/protocol';

/** One refresh: the report and when it was taken (ms, monotonic enough: Date.now). */
export interface TopSample {
  readonly status: DaemonStatus;
  readonly at: number;
}

/** Names are chosen by clients: never let one move the cursor or recolour the terminal. */
function printable(text: string, max: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function rate(now: number, before: number | undefined, seconds: number): string {
  if (before === undefined || seconds <= 0) return '-';
  return (Math.max(0, now - before) / seconds).toFixed(1);
}

function age(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

function columns(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, k) => (k === cells.length - 1 ? cell : cell.padEnd(widths[k]!)))
    .join(' ')
    .trimEnd();
}

const UPSTREAM_WIDTHS = [40, 13, 7, 8, 9, 6, 6, 6];
const CLIENT_WIDTHS = [24, 8, 8, 10, 9, 6, 6];

/** The lines of one refresh. `previous` (the refresh before) gives the rates; the first refresh shows `-`. */
export function renderTop(current: TopSample, previous?: TopSample): string[] {
  const { status } = current;
  const seconds = previous ? (current.at - previous.at) / 1000 : 0;
  const before = previous?.status;
  const upstreamBefore = new Map(before?.upstreams.map((u) => [u.connectionId, u]));
  const clientBefore = new Map(before?.clients.map((c) => [c.clientId, c]));
  const { daemon, ring } = status;
  const lines = [
    `wsproxy top: daemon ${daemon.pid} v${daemon.version}, up ${Math.round(daemon.uptimeMs / 1000)} s, ${new Date(current.at).toISOString().slice(11, 19)} UTC`,
    `ring ${(ring.fill * 100).toFixed(1)}% of ${bytes(ring.capacityBytes)}, ${ring.recordsWritten} records (${rate(ring.recordsWritten, before?.ring.recordsWritten, seconds)}/s), ${ring.laps ?? 0} laps`,
    '',
    columns(
      ['UPSTREAM', 'STATE', 'CLIENTS', 'MSG/S', 'KIB/S', 'LAST', 'RECON', 'AUTHF', 'SUBSCRIPTIONS'],
      [...UPSTREAM_WIDTHS],
    ),
  ];
  if (status.upstreams.length === 0) lines.push('  (none)');
  for (const u of status.upstreams) {
    const was = upstreamBefore.get(u.connectionId);
    const kib = rate(u.bytesIn / 1024, was ? was.bytesIn / 1024 : undefined, seconds);
    const subscriptions = Object.entries(u.adapterStats?.subscriptions ?? {})
      .filter(([, count]) => count > 0)
      .map(([channel, count]) => `${channel} ${count}`)
      .join(', ');
    lines.push(
      columns(
        [
          printable(`#${u.connectionId} ${u.url}`, 40),
          u.adapterStats?.authenticated === false && u.state === 'open' ? 'open (no auth)' : u.state,
          String(u.clients.length),
          rate(u.messagesIn, was?.messagesIn, seconds),
          kib,
          age(u.lastMessageAgeMs),
          String(u.reconnects),
          String(u.adapterStats?.authFailures ?? 0),
          subscriptions || '-',
        ],
        UPSTREAM_WIDTHS,
      ),
    );
    const why = u.stateReason ?? (u.state !== 'open' ? u.adapterStats?.lastError : undefined);
    if (why) lines.push(`    ${printable(why, 100)}`);
  }
  lines.push('', columns(['CLIENT', 'PID', 'MSG/S', 'LAG', 'GAPS', 'LOST', 'IDLE'], CLIENT_WIDTHS));
  if (status.clients.length === 0) lines.push('  (none)');
  for (const c of status.clients) {
    const was = clientBefore.get(c.clientId);
    lines.push(
      columns(
        [
          printable(`#${c.clientId} ${c.name || '-'}`, 24),
          String(c.pid),
          rate(c.deliveredMessages, was?.deliveredMessages, seconds),
          c.ringLagBytes === undefined ? '-' : bytes(c.ringLagBytes),
          String(c.gaps),
          String(c.lostMessages),
          c.sleeping === undefined ? '-' : c.sleeping ? 'sleeping' : 'reading',
        ],
        CLIENT_WIDTHS,
      ),
    );
  }
  if (status.endpoint) {
    const { url, connections, slowClientCloses } = status.endpoint;
    lines.push(
      '',
      `endpoint ${url}: ${connections.length} connections, ${slowClientCloses ?? 0} closed as too slow`,
    );
    for (const e of connections) {
      lines.push(
        `  #${e.clientId} ${printable(e.remote, 30)} ${e.format} ${e.state}, ${e.messagesOut} msgs out, ${bytes(e.bufferedBytes)} buffered`,
      );
    }
  }
  return lines;
}
