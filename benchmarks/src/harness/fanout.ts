// One round of "one writer, K reader processes" for any transport: the writer agent writes 100-byte records as
// fast as the transport takes them for a fixed time, each reader agent counts what it receives, and the
// throughput is what each reader really got per second (from the writer's start to the reader's end marker).
import type { Agent } from './agent-pool.js';
import type { TallySummary, TimedWriteArgs, WriterSummary } from './records.js';

export interface FanoutTransport {
  name: string;
  kind: 'product' | 'baseline';
  /** May the transport drop records for a reader that falls behind (and count them)? */
  lossy: boolean;
  setupWriter(writer: Agent, readers: number): Promise<unknown>;
  startReader(reader: Agent, address: unknown, index: number): Promise<void>;
  go(writer: Agent, args: TimedWriteArgs): Promise<WriterSummary>;
  finishReader(reader: Agent): Promise<TallySummary>;
  teardownWriter(writer: Agent): Promise<void>;
}

export interface FanoutRun {
  /** Mean over readers of records received per second. */
  perReader: number;
  /** Sum over readers. */
  total: number;
  /** Received / sent, mean over readers (1 for lossless transports). */
  delivered: number;
  sent: number;
}

export class FanoutIntegrityError extends Error {
  override name = 'FanoutIntegrityError';
  readonly code = 'BENCH_ERR_INTEGRITY';
}

export async function runFanoutRound(
  transport: FanoutTransport,
  writer: Agent,
  readers: readonly Agent[],
  args: TimedWriteArgs,
): Promise<FanoutRun> {
  const address = await transport.setupWriter(writer, readers.length);
  try {
    await Promise.all(readers.map((r, i) => transport.startReader(r, address, i)));
    const wrote = await transport.go(writer, args);
    const got = await Promise.all(readers.map((r) => transport.finishReader(r)));
    const rates: number[] = [];
    let deliveredSum = 0;
    for (const [i, tally] of got.entries()) {
      if (tally.backwards > 0) {
        throw new FanoutIntegrityError(
          `${transport.name}: reader ${i} saw ${tally.backwards} records out of order`,
        );
      }
      if (!transport.lossy && (tally.missing > 0 || tally.received !== wrote.sent)) {
        throw new FanoutIntegrityError(
          `${transport.name}: reader ${i} received ${tally.received} of ${wrote.sent} records on a lossless transport`,
        );
      }
      const seconds = Number(tally.lastNs - wrote.startNs) / 1e9;
      rates.push(tally.received / seconds);
      deliveredSum += wrote.sent > 0 ? tally.received / wrote.sent : 0;
    }
    const total = rates.reduce((a, b) => a + b, 0);
    const run = {
      perReader: total / rates.length,
      total,
      delivered: deliveredSum / got.length,
      sent: wrote.sent,
    };
    await transport.teardownWriter(writer);
    return run;
  } catch (err) {
    // Report what broke first; a teardown failing after it (the writer may be the stuck one) says nothing new.
    await transport.teardownWriter(writer).catch(() => {});
    throw err;
  }
}
