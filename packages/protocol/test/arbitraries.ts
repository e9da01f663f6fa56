// fast-check generators for every message the protocol carries, shared by the property and fuzz tests.
import fc from 'fast-check';
import type {
  ConnectionEvent,
  ControlMessage,
  DaemonStatus,
  DataRecordInit,
  Header,
  LogLevel,
} from '../src/index.js';
import { LOG_LEVELS } from '../src/index.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const id = fc.integer({ min: 1, max: 0xffff_ffff });
const version = fc.integer({ min: 1, max: 0xffff });
const u53 = fc.maxSafeInteger().map(Math.abs);
const text = (maxLength = 40) => fc.string({ unit: 'binary', maxLength });
const bytes = (maxLength = 64) => fc.uint8Array({ maxLength });

export const connectionEvent: fc.Arbitrary<ConnectionEvent> = fc.oneof(
  fc.record({ kind: fc.constant('closed' as const), connectionId: u32, code: u16, reason: text() }),
  fc.record({ kind: fc.constant('error' as const), connectionId: u32, code: text(20), message: text() }),
  fc.record({
    kind: fc.constant('reconnecting' as const),
    connectionId: u32,
    attempt: u32,
    delayMs: u32,
    reason: text(),
  }),
  fc.record({ kind: fc.constant('reconnected' as const), connectionId: u32, attempt: u32, downtimeMs: u32 }),
  fc.record({ kind: fc.constant('gap' as const), connectionId: u32, lostMessages: u53, lostBytes: u53 }),
);

const status: fc.Arbitrary<DaemonStatus> = fc.record({
  daemon: fc.record({
    pid: u32,
    version: text(10),
    protocolVersion: version,
    uptimeMs: u32,
    logLevel: fc.constantFrom(...LOG_LEVELS),
  }),
  ring: fc.record({
    name: text(20),
    capacityBytes: u32,
    usedBytes: u32,
    fill: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
    recordsWritten: u53,
  }),
  clients: fc.array(
    fc.record({
      clientId: id,
      name: text(10),
      pid: u32,
      readerSlot: fc.integer({ min: 0, max: 4095 }),
      connections: fc.array(id, { maxLength: 3 }),
      deliveredMessages: u53,
      deliveredBytes: u53,
      gaps: u32,
      lostMessages: u53,
    }),
    { maxLength: 3 },
  ),
  upstreams: fc.array(
    fc.record({
      connectionId: id,
      url: text(30),
      adapter: fc.constantFrom('', 'alpaca'),
      state: fc.constantFrom(
        'connecting',
        'authenticating',
        'open',
        'reconnecting',
        'closing',
        'closed' as const,
      ),
      clients: fc.array(id, { maxLength: 3 }),
      reconnects: u32,
      messagesIn: u53,
      bytesIn: u53,
    }),
    { maxLength: 3 },
  ),
});

const header: fc.Arbitrary<Header> = fc.tuple(text(20), text(40));

export const controlMessage: fc.Arbitrary<ControlMessage> = fc.oneof(
  fc.record({
    type: fc.constant('hello' as const),
    minVersion: u16,
    maxVersion: u16,
    clientPid: u32,
    clientName: text(),
  }),
  fc.record({
    type: fc.constant('welcome' as const),
    version: u16,
    clientId: u32,
    daemonPid: u32,
    daemonVersion: text(20),
    ringName: text(30),
    readerSlot: fc.integer({ min: 0, max: 4095 }),
  }),
  fc.record({
    type: fc.constant('refused' as const),
    code: text(30),
    message: text(),
    minVersion: u16,
    maxVersion: u16,
  }),
  fc.record({
    type: fc.constant('open' as const),
    requestId: u32,
    url: text(100),
    adapter: text(10),
    headers: fc.array(header, { maxLength: 5 }),
    credentials: fc.option(fc.record({ key: text(30), secret: text(60) }), { nil: null }),
    // Version 2: absent, or a non-empty module (an empty one is encoded as a plain open and decodes without it).
    adapterModule: fc.option(
      text(60).filter((s) => s !== ''),
      { nil: undefined },
    ),
  }),
  fc.record({
    type: fc.constant('close' as const),
    requestId: u32,
    connectionId: fc.oneof(id, fc.constant('all' as const)),
  }),
  fc.record({
    type: fc.constant('send' as const),
    requestId: u32,
    connectionId: id,
    binary: fc.boolean(),
    payload: bytes(),
  }),
  fc.record({ type: fc.constant('subscribe' as const), requestId: u32, connectionId: id, params: bytes() }),
  fc.record({ type: fc.constant('unsubscribe' as const), requestId: u32, connectionId: id, params: bytes() }),
  fc.record({ type: fc.constant('restore' as const), requestId: u32, connectionId: id, state: bytes() }),
  fc.record({
    type: fc.constant('setLogLevel' as const),
    requestId: u32,
    level: fc.constantFrom<LogLevel>(...LOG_LEVELS),
  }),
  fc.record({ type: fc.constant('status' as const), requestId: u32 }),
  fc.record({ type: fc.constant('ok' as const), requestId: u32 }),
  fc.record({ type: fc.constant('error' as const), requestId: u32, code: text(30), message: text() }),
  fc.record({ type: fc.constant('opened' as const), requestId: u32, connectionId: id, isNew: fc.boolean() }),
  fc.record({
    type: fc.constant('subscribed' as const),
    requestId: u32,
    alreadySubscribed: fc.boolean(),
    reply: bytes(),
  }),
  fc.record({
    type: fc.constant('subscribed' as const),
    requestId: u32,
    alreadySubscribed: fc.boolean(),
    reply: bytes(),
    state: bytes(),
  }),
  fc.record({
    type: fc.constant('unsubscribed' as const),
    requestId: u32,
    stillSubscribed: fc.boolean(),
    reply: bytes(),
  }),
  fc.record({
    type: fc.constant('unsubscribed' as const),
    requestId: u32,
    stillSubscribed: fc.boolean(),
    reply: bytes(),
    state: bytes(),
  }),
  fc.record({ type: fc.constant('statusReport' as const), requestId: u32, status }),
  fc.record({ type: fc.constant('event' as const), event: connectionEvent }),
);

/** Recipient sets from a handful of readers (list encoding) to over a thousand (bitset encoding). */
export const recipients = fc.oneof(
  fc.uniqueArray(fc.integer({ min: 0, max: 4095 }), { maxLength: 8 }),
  fc.uniqueArray(fc.integer({ min: 0, max: 1023 }), { minLength: 50, maxLength: 1024 }),
);

export const dataRecord: fc.Arbitrary<DataRecordInit> = fc.record({
  connectionId: id,
  binary: fc.boolean(),
  recipients,
  payload: bytes(300),
  fragment: fc.option(
    fc.record({
      messageId: u32,
      offset: fc.integer({ min: 0, max: 1 << 20 }),
      remaining: fc.integer({ min: 0, max: 1 << 20 }),
    }),
    { nil: null },
  ),
});
