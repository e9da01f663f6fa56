// The BroadcastRing as a fan-out transport, seen from the orchestrator: two variants, because the ring offers
// both policies — `back-pressure` (lossless, the writer waits for the slowest reader, comparable one-to-one with
// the Unix-socket and ws baselines) and `overwrite` (the product default: the writer never waits, a lapped reader
// skips ahead and counts its loss).
import type { FanoutTransport } from '../harness/fanout.js';
import type { TallySummary, WriterSummary } from '../harness/records.js';

const RUN_TIMEOUT_MS = 60_000;
let segmentCounter = 0;

/** Unique per session and round; the `wsproxy` prefix lets CI's leftover check see any segment we leak. */
export function segmentName(label: string): string {
  return `${segmentPrefix()}${label}-${segmentCounter++}`;
}

export function segmentPrefix(): string {
  return `wsproxy-bench-${process.pid}-`;
}

export function ringFanout(dir: string, backPressure: boolean): FanoutTransport {
  return {
    name: backPressure ? 'shm ring (back-pressure)' : 'shm ring (overwrite)',
    kind: 'product',
    lossy: !backPressure,
    setupWriter: (writer, readers) =>
      writer.call('shm-ring', 'writerSetup', { name: segmentName('fanout'), dir, readers, backPressure }),
    startReader: (reader, address) => reader.call('shm-ring', 'readerStart', address),
    go: (writer, args) => writer.call<WriterSummary>('shm-ring', 'writerGo', args, RUN_TIMEOUT_MS),
    finishReader: (reader) => reader.call<TallySummary>('shm-ring', 'readerFinish', {}, RUN_TIMEOUT_MS),
    teardownWriter: (writer) => writer.call('shm-ring', 'writerTeardown', {}),
  };
}
