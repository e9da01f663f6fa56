/**
 * A strategy written against Alpaca's wire protocol only, as an official SDK is (plain `ws`, msgpack or JSON per
 * the upgrade's Content-Type), talking to the daemon's drop-in endpoint. It behaves like the SDKs: its view is the
 * last ack it got, and after a drop it reconnects, re-authenticates and resubscribes that view.
 */
import { decode, ExtensionCodec, encode } from '@msgpack/msgpack';
import { WebSocket } from 'ws';
import { itemKey, toChannelSet } from '../subscriptions.js';
import { type Command, DataBatcher, report } from './messages.js';

const url = process.env.CHAOS_ENDPOINT_URL as string;
const encoding = process.env.CHAOS_ENCODING === 'json' ? 'json' : 'msgpack';
const key = process.env.APCA_API_KEY_ID as string;
const secret = process.env.APCA_API_SECRET_KEY as string;
const now = Date.now;
/** The SDKs' reconnect delay is a few seconds; shorter here so a run sees more cycles. */
const RECONNECT_DELAY_MS = 500;

// msgpack timestamps (extension -1) back to the RFC 3339 text the mock records, so item keys compare equal.
const codec = new ExtensionCodec();
codec.register({
  type: -1,
  encode: () => null,
  decode: (data) => {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let sec: number;
    let nsec: number;
    if (data.byteLength === 12) {
      nsec = view.getUint32(0);
      sec = Number(view.getBigInt64(4));
    } else if (data.byteLength === 8) {
      const hi = view.getUint32(0);
      nsec = hi >>> 2;
      sec = (hi & 0x3) * 2 ** 32 + view.getUint32(4);
    } else {
      nsec = 0;
      sec = view.getUint32(0);
    }
    const base = new Date(sec * 1000).toISOString().slice(0, 19);
    // Go's RFC3339Nano, as Alpaca (and the mock) write it: the fraction's trailing zeros dropped.
    return nsec === 0 ? `${base}Z` : `${base}.${String(nsec).padStart(9, '0').replace(/0+$/, '')}Z`;
  },
});

const batcher = new DataBatcher();
let ws: WebSocket | undefined;
let lastAck = toChannelSet({});
/** The change waiting for its ack or error (the harness sends one at a time, as Alpaca's protocol needs). */
let pending: number | undefined;
let whole = false;
let exiting = false;

function send(message: unknown): void {
  ws?.send(encoding === 'json' ? JSON.stringify(message) : encode(message));
}

function answer(ok: boolean, code?: string, message?: string): void {
  if (pending === undefined) return;
  const req = pending;
  pending = undefined;
  report({
    type: 'answer',
    req,
    ok,
    view: lastAck,
    ...(code ? { code } : {}),
    ...(message ? { message } : {}),
    at: now(),
  });
}

function recovered(why: string): void {
  if (whole) return;
  whole = true;
  report({ type: 'window', edge: 'close', why, at: now() });
}

function open(): void {
  const socket = new WebSocket(url, { headers: { 'Content-Type': `application/${encoding}` } });
  ws = socket;
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = (
      isBinary ? decode(data, { extensionCodec: codec }) : JSON.parse(data.toString())
    ) as Record<string, unknown>[];
    for (const m of frame) onMessage(m);
  });
  socket.on('close', (code, reason) => {
    if (ws !== socket) return;
    ws = undefined;
    batcher.flush();
    answer(false, 'CLOSED', `socket closed (${code})`);
    if (whole)
      report({ type: 'window', edge: 'open', why: `closed ${code} ${reason.toString()}`, at: now() });
    whole = false;
    report({ type: 'event', name: 'close', detail: { code, reason: reason.toString() }, at: now() });
    if (!exiting) setTimeout(open, RECONNECT_DELAY_MS);
  });
  socket.on('error', (error) =>
    report({ type: 'event', name: 'socket-error', detail: error.message, at: now() }),
  );
}

function onMessage(m: Record<string, unknown>): void {
  switch (m.T) {
    case 'success':
      if (m.msg === 'connected') send({ action: 'auth', key, secret });
      if (m.msg === 'authenticated') {
        const { trades, quotes, bars } = lastAck;
        if (trades.length + quotes.length + bars.length > 0)
          send({ action: 'subscribe', trades, quotes, bars });
        else recovered('authenticated');
      }
      return;
    case 'subscription':
      lastAck = toChannelSet(m);
      answer(true);
      recovered('resubscribed');
      return;
    case 'error':
      report({ type: 'event', name: 'alpacaError', detail: m, at: now() });
      answer(false, `ALPACA_${String(m.code)}`, String(m.msg));
      return;
    default:
      batcher.add(itemKey(m));
  }
}

process.on('message', (command: Command) => {
  switch (command.op) {
    case 'change':
      if (!ws || ws.readyState !== WebSocket.OPEN || !whole) {
        report({
          type: 'answer',
          req: command.req,
          ok: false,
          view: lastAck,
          code: 'NOT_CONNECTED',
          at: now(),
        });
        return;
      }
      pending = command.req;
      send({ action: command.action, ...command.set });
      return;
    case 'report': {
      const address = (ws as unknown as { _socket?: { localPort?: number } } | undefined)?._socket?.localPort;
      report({
        type: 'view',
        req: command.req,
        view: lastAck,
        ...(ws && address !== undefined ? { localPort: address } : {}),
        at: now(),
      });
      return;
    }
    case 'stop-reading': {
      const socket = (ws as unknown as { _socket?: { pause(): void; resume(): void } } | undefined)?._socket;
      socket?.pause();
      setTimeout(() => socket?.resume(), command.ms);
      return;
    }
    case 'exit':
      exiting = true;
      batcher.stop();
      if (!ws) process.exit(0);
      ws.once('close', () => process.exit(0));
      ws.close();
      setTimeout(() => process.exit(0), 2000);
      return;
  }
});

open();
report({ type: 'ready', at: now() });
