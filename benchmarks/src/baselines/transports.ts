// The baseline fan-out transports as seen from the orchestrator: which agent functions set them up and run them.
import type { FanoutTransport } from '../harness/fanout.js';
import type { TallySummary, WriterSummary } from '../harness/records.js';
import type { HubMode } from './ws-fanout.js';

const RUN_TIMEOUT_MS = 60_000;

export function unixSocketFanout(dir: string): FanoutTransport {
  return {
    name: 'unix-socket (corked batches)',
    kind: 'baseline',
    lossy: false,
    setupWriter: (writer, readers) => writer.call('unix-fanout', 'writerSetup', { dir, readers }),
    startReader: (reader, address) => reader.call('unix-fanout', 'readerStart', address),
    go: (writer, args) => writer.call<WriterSummary>('unix-fanout', 'writerGo', args, RUN_TIMEOUT_MS),
    finishReader: (reader) => reader.call<TallySummary>('unix-fanout', 'readerFinish', {}, RUN_TIMEOUT_MS),
    teardownWriter: (writer) => writer.call('unix-fanout', 'writerTeardown', {}),
  };
}

export function wsFanout(mode: HubMode): FanoutTransport {
  return {
    name: mode === 'corked' ? 'ws hub (corked)' : 'ws hub (naive)',
    kind: 'baseline',
    lossy: false,
    setupWriter: (writer, readers) => writer.call('ws-fanout', 'hubSetup', { readers, mode }),
    startReader: (reader, address) => reader.call('ws-fanout', 'readerStart', address),
    go: (writer, args) => writer.call<WriterSummary>('ws-fanout', 'hubGo', args, RUN_TIMEOUT_MS),
    finishReader: (reader) => reader.call<TallySummary>('ws-fanout', 'readerFinish', {}, RUN_TIMEOUT_MS),
    teardownWriter: (writer) => writer.call('ws-fanout', 'hubTeardown', {}),
  };
}
