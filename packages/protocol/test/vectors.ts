// The golden vectors: one checked-in hex file per message type (test/vectors/<name>.hex). A reimplementation in
// another language can test itself against the same files. Regenerate only on a deliberate wire change:
// WSP_UPDATE_VECTORS=1 pnpm --filter @wsproxy/protocol test
import type { ConnectionEvent, ControlMessage, DataRecordInit, Recipients } from '../src/index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

export type Vector =
  | { name: string; kind: 'control'; message: ControlMessage }
  | { name: string; kind: 'data-record'; record: DataRecordInit }
  | { name: string; kind: 'event-record'; event: ConnectionEvent; recipients: Recipients };

export const vectors: Vector[] = [
  {
    name: 'hello',
    kind: 'control',
    message: { type: 'hello', minVersion: 1, maxVersion: 1, clientPid: 4242, clientName: 'momentum' },
  },
  {
    name: 'welcome',
    kind: 'control',
    message: {
      type: 'welcome',
      version: 1,
      clientId: 7,
      daemonPid: 999,
      daemonVersion: '0.1.0',
      ringName: '/wsproxy-default-ring',
      readerSlot: 3,
    },
  },
  {
    name: 'refused',
    kind: 'control',
    message: {
      type: 'refused',
      code: 'WSP_PROTO_VERSION_MISMATCH',
      message: 'client speaks 2..3, daemon speaks 1..1',
      minVersion: 1,
      maxVersion: 1,
    },
  },
  {
    name: 'open',
    kind: 'control',
    message: {
      type: 'open',
      requestId: 1,
      url: 'wss://stream.data.alpaca.markets/v2/iex',
      adapter: 'alpaca',
      headers: [['Content-Type', 'application/msgpack']],
      credentials: { key: 'PKTEST', secret: 's3cr3t' },
    },
  },
  {
    name: 'open-passthrough',
    kind: 'control',
    message: {
      type: 'open',
      requestId: 2,
      url: 'ws://127.0.0.1:8080/',
      adapter: '',
      headers: [],
      credentials: null,
    },
  },
  {
    name: 'open-with-module',
    kind: 'control',
    message: {
      type: 'open',
      requestId: 6,
      url: 'wss://stream.data.alpaca.markets/v2/iex',
      adapter: 'alpaca',
      headers: [],
      credentials: { key: 'PKTEST', secret: 's3cr3t' },
      adapterModule: '@wsproxy/alpaca-adapter/daemon',
    },
  },
  { name: 'close', kind: 'control', message: { type: 'close', requestId: 3, connectionId: 5 } },
  { name: 'close-all', kind: 'control', message: { type: 'close', requestId: 4, connectionId: 'all' } },
  {
    name: 'send-text',
    kind: 'control',
    message: {
      type: 'send',
      requestId: 5,
      connectionId: 5,
      binary: false,
      payload: utf8('{"action":"ping"}'),
    },
  },
  {
    name: 'send-binary',
    kind: 'control',
    message: {
      type: 'send',
      requestId: 6,
      connectionId: 5,
      binary: true,
      payload: Uint8Array.of(0x81, 0xa1, 0x54),
    },
  },
  {
    name: 'subscribe',
    kind: 'control',
    message: { type: 'subscribe', requestId: 7, connectionId: 5, params: utf8('{"trades":["AAPL"]}') },
  },
  {
    name: 'unsubscribe',
    kind: 'control',
    message: { type: 'unsubscribe', requestId: 8, connectionId: 5, params: utf8('{"trades":["AAPL"]}') },
  },
  { name: 'set-log-level', kind: 'control', message: { type: 'setLogLevel', requestId: 9, level: 'debug' } },
  { name: 'status', kind: 'control', message: { type: 'status', requestId: 10 } },
  { name: 'ok', kind: 'control', message: { type: 'ok', requestId: 3 } },
  {
    name: 'error',
    kind: 'control',
    message: { type: 'error', requestId: 1, code: 'WSP_ERR_AUTH_FAILED', message: 'auth failed' },
  },
  {
    name: 'opened',
    kind: 'control',
    message: { type: 'opened', requestId: 1, connectionId: 5, isNew: true },
  },
  {
    name: 'subscribed',
    kind: 'control',
    message: {
      type: 'subscribed',
      requestId: 7,
      alreadySubscribed: true,
      reply: utf8('[{"T":"subscription","trades":["AAPL"]}]'),
    },
  },
  {
    name: 'unsubscribed',
    kind: 'control',
    message: {
      type: 'unsubscribed',
      requestId: 8,
      stillSubscribed: false,
      reply: utf8('[{"T":"subscription"}]'),
    },
  },
  {
    name: 'subscribed-with-state',
    kind: 'control',
    message: {
      type: 'subscribed',
      requestId: 11,
      alreadySubscribed: false,
      reply: utf8('[{"T":"subscription","trades":["MSFT"]}]'),
      state: utf8('{"trades":["MSFT"]}'),
    },
  },
  {
    name: 'unsubscribed-with-state',
    kind: 'control',
    message: {
      type: 'unsubscribed',
      requestId: 12,
      stillSubscribed: false,
      reply: utf8('[{"T":"subscription","trades":["MSFT"]}]'),
      state: utf8('{"trades":["MSFT"]}'),
    },
  },
  {
    name: 'restore',
    kind: 'control',
    message: { type: 'restore', requestId: 13, connectionId: 5, state: utf8('{"trades":["MSFT"]}') },
  },
  {
    name: 'status-report',
    kind: 'control',
    message: {
      type: 'statusReport',
      requestId: 10,
      status: {
        daemon: { pid: 999, version: '0.1.0', protocolVersion: 1, uptimeMs: 1500, logLevel: 'info' },
        ring: {
          name: '/wsproxy-default-ring',
          capacityBytes: 4096,
          usedBytes: 1024,
          fill: 0.25,
          recordsWritten: 12,
        },
        clients: [
          {
            clientId: 7,
            name: 'momentum',
            pid: 4242,
            readerSlot: 3,
            connections: [5],
            deliveredMessages: 12,
            deliveredBytes: 1200,
            gaps: 0,
            lostMessages: 0,
          },
        ],
        upstreams: [
          {
            connectionId: 5,
            url: 'wss://stream.data.alpaca.markets/v2/iex',
            adapter: 'alpaca',
            state: 'open',
            clients: [7],
            reconnects: 0,
            messagesIn: 12,
            bytesIn: 1200,
          },
        ],
      },
    },
  },
  {
    name: 'event-closed',
    kind: 'control',
    message: { type: 'event', event: { kind: 'closed', connectionId: 5, code: 1000, reason: 'bye' } },
  },
  {
    name: 'event-error',
    kind: 'control',
    message: {
      type: 'event',
      event: {
        kind: 'error',
        connectionId: 5,
        code: 'WSP_ERR_UPSTREAM_LIMIT',
        message: 'connection limit exceeded',
      },
    },
  },
  {
    name: 'event-reconnecting',
    kind: 'control',
    message: {
      type: 'event',
      event: { kind: 'reconnecting', connectionId: 5, attempt: 2, delayMs: 1500, reason: 'socket hang up' },
    },
  },
  {
    name: 'event-reconnected',
    kind: 'control',
    message: { type: 'event', event: { kind: 'reconnected', connectionId: 5, attempt: 2, downtimeMs: 2100 } },
  },
  {
    name: 'event-gap',
    kind: 'control',
    message: { type: 'event', event: { kind: 'gap', connectionId: 0, lostMessages: 17, lostBytes: 2048 } },
  },
  {
    name: 'data-record-text',
    kind: 'data-record',
    record: {
      connectionId: 5,
      binary: false,
      recipients: [3, 9],
      payload: utf8('[{"T":"t","S":"AAPL","p":126.55}]'),
    },
  },
  {
    name: 'data-record-fragment',
    kind: 'data-record',
    record: {
      connectionId: 5,
      binary: true,
      recipients: [3],
      payload: Uint8Array.of(1, 2, 3, 4),
      fragment: { messageId: 77, offset: 4096, remaining: 100 },
    },
  },
  {
    name: 'data-record-bitset',
    kind: 'data-record',
    record: {
      connectionId: 6,
      binary: false,
      recipients: [0, 1, 2, 3, 4, 5, 8, 15, 20],
      payload: utf8('hi'),
    },
  },
  {
    name: 'event-record',
    kind: 'event-record',
    event: { kind: 'reconnected', connectionId: 5, attempt: 1, downtimeMs: 250 },
    recipients: [3, 9],
  },
];

/** Parses a vector file: hex digits, whitespace, and `#` comments to the end of a line. */
export function parseHex(text: string): Uint8Array {
  const digits = text.replace(/#.*$/gm, '').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error('vector file is not hex');
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

/** Formats bytes as a vector file: a comment naming the vector, then 16 bytes per line. */
export function formatHex(name: string, description: string, bytes: Uint8Array): string {
  const lines = [`# ${name}: ${description}`, `# ${bytes.length} bytes`];
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push(Array.from(bytes.subarray(i, i + 16), (b) => b.toString(16).padStart(2, '0')).join(' '));
  }
  return `${lines.join('\n')}\n`;
}
