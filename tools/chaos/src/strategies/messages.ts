/**
 * What the harness and a strategy process say to each other over the IPC channel of `fork()`. Every report carries
 * the strategy's own clock (`at`, ms since the epoch: the same clock as the harness, one machine) so the invariants
 * can place it against what the mock sent.
 */
import type { ChannelSet } from '../subscriptions.js';

export type Command =
  | { op: 'change'; req: number; action: 'subscribe' | 'unsubscribe'; set: Partial<ChannelSet> }
  | { op: 'report'; req: number }
  /** Endpoint strategies: stop reading the socket for `ms` (a slow reader). */
  | { op: 'stop-reading'; ms: number }
  | { op: 'exit' };

export type Report =
  | { type: 'ready'; at: number }
  /** The answer to a change: its own ack (ok) or a typed refusal; `view` is its view right after. */
  | {
      type: 'answer';
      req: number;
      ok: boolean;
      view: ChannelSet;
      code?: string;
      message?: string;
      at: number;
    }
  /** Its view now, and how the daemon knows it: a client id (shared memory) or the local port (endpoint). */
  | { type: 'view'; req: number; view: ChannelSet; clientId?: number; localPort?: number; at: number }
  /** Data items received: [item key, received at]. */
  | { type: 'data'; items: [string, number][] }
  /**
   * A window in which loss is announced: `open` when the strategy is told it may lose data (reconnecting, socket
   * closed), `close` when it is told it is whole again (reconnected, re-acked).
   */
  | { type: 'window'; edge: 'open' | 'close'; why: string; at: number }
  /** A gap event: data was lost here, and the strategy was told. */
  | { type: 'gap'; info: unknown; at: number }
  /** Anything else worth a line in the log (errors with their code, closes). */
  | { type: 'event'; name: string; detail: unknown; at: number };

/** Sends a report to the harness; a harness that is gone means we are done too. */
export function report(message: Report): void {
  if (!process.send || !process.connected) process.exit(0);
  process.send(message);
}

/** Collects data item keys and ships them every 100 ms, so IPC costs one message per batch, not per item. */
export class DataBatcher {
  private items: [string, number][] = [];
  private readonly timer = setInterval(() => this.flush(), 100);

  add(key: string): void {
    this.items.push([key, Date.now()]);
  }

  flush(): void {
    if (this.items.length === 0) return;
    report({ type: 'data', items: this.items });
    this.items = [];
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
