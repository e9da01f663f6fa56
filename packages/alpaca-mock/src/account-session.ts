/**
 * One account (`/stream`) connection: auth in either form (current docs' `auth`, the SDKs' `authenticate`),
 * `listen` replacing the set of streams, and trade_updates events. Single JSON objects, in binary frames like
 * paper (or text frames, by option).
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { decodeFrame } from './codec.js';
import type { AccountEndpoint } from './endpoints.js';
import type { TradeUpdate } from './market/trading.js';
import { BaseSession, type SessionHost } from './session.js';
import type { SubscriptionMap } from './subscriptions.js';

const KNOWN_STREAMS = new Set(['trade_updates']);

export class AccountSession extends BaseSession {
  readonly kind = 'account' as const;
  private streams: string[] = [];
  private readonly dataMessages: unknown[] = [];

  constructor(id: number, endpoint: AccountEndpoint, ws: WebSocket, socket: Socket, host: SessionHost) {
    super(id, endpoint, 'json', ws, socket, host);
  }

  start(): void {
    this.startAuthTimer(() => {
      this.sendObject(authorization('unauthorized', 'authenticate'));
      this.ws.close(1008, 'auth timeout');
    });
  }

  subscriptions(): SubscriptionMap {
    return { streams: [...this.streams] };
  }

  sentData(): unknown[] {
    return this.dataMessages;
  }

  hasDemand(): boolean {
    return this.authenticated && !this.closed && this.streams.includes('trade_updates');
  }

  deliver(update: TradeUpdate): void {
    if (!this.hasDemand()) return;
    if (this.sendObject(update)) this.dataMessages.push(update);
  }

  push(messages: readonly unknown[]): void {
    for (const message of messages) if (this.sendObject(message)) this.dataMessages.push(message);
  }

  slowClient(): void {
    if (this.closed) return;
    this.closeWithin(1008, 'slow client');
  }

  protected internalError(): void {
    this.sendObject({ stream: 'error', data: { error_message: 'internal error' } });
  }

  protected onFrame(data: Buffer | Buffer[], _isBinary: boolean): void {
    let message: unknown;
    try {
      message = decodeFrame(data, 'json');
    } catch {
      this.receivedRecord.add(null);
      this.sendObject({ stream: 'error', data: { error_message: 'invalid syntax' } });
      return;
    }
    this.receivedRecord.add(message);
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.sendObject({ stream: 'error', data: { error_message: 'invalid syntax' } });
      return;
    }
    const fields = message as Record<string, unknown>;
    switch (fields.action) {
      case 'auth':
        this.onAuth('auth', fields.key, fields.secret);
        return;
      case 'authenticate': {
        const data = (fields.data ?? {}) as Record<string, unknown>;
        this.onAuth('authenticate', data.key_id, data.secret_key);
        return;
      }
      case 'listen':
        this.onListen(fields.data);
        return;
      default:
        this.sendObject({ stream: 'error', data: { error_message: 'invalid syntax' } });
    }
  }

  private onAuth(action: 'auth' | 'authenticate', key: unknown, secret: unknown): void {
    if (this.authenticated) {
      // Re-authenticating an authorized stream is harmless on the real service; answer as it does.
      this.sendObject(authorization('authorized', action === 'auth' ? 'authenticate' : action));
      return;
    }
    const outcome =
      typeof key === 'string' && typeof secret === 'string'
        ? this.host.authenticate(this, key, secret, 'trading')
        : 402;
    if (outcome !== 'ok') {
      this.sendObject(authorization('unauthorized', 'authenticate'));
      this.ws.close(1008, 'unauthorized');
      return;
    }
    this.stopAuthTimer();
    this.sendObject(authorization('authorized', 'authenticate'));
  }

  private onListen(data: unknown): void {
    if (!this.authenticated) {
      this.sendObject(authorization('unauthorized', 'listen'));
      return;
    }
    const streams = (data as Record<string, unknown> | undefined)?.streams;
    if (!Array.isArray(streams) || streams.some((s) => typeof s !== 'string')) {
      this.sendObject({ stream: 'error', data: { error_message: 'invalid syntax' } });
      return;
    }
    // The list REPLACES the current set; an empty list stops everything.
    this.streams = [...new Set(streams as string[])].filter((s) => KNOWN_STREAMS.has(s));
    this.sendObject({ stream: 'listening', data: { streams: [...this.streams] } });
    this.host.demandChanged(this);
  }

  private sendObject(message: unknown): boolean {
    const binary = this.host.options.accountFrames === 'binary';
    const text = JSON.stringify(message);
    const ok = this.writeFrame(binary ? Buffer.from(text) : text, 1, binary);
    if (ok) this.sentRecord.add(message);
    return ok;
  }
}

function authorization(status: 'authorized' | 'unauthorized', action: string): Record<string, unknown> {
  return { stream: 'authorization', data: { status, action } };
}
