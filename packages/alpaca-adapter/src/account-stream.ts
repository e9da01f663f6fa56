// The account stream (`/stream`, trade_updates) shared by several strategies: one authenticated session, each
// client's `listen` list kept separately (a list REPLACES that client's set, as with Alpaca), the union sent
// upstream whenever it changes, and every event delivered to each client that listens to its stream.

import { type AlpacaCredentials, CredentialCheck, credentialsFromAuthMessage } from './auth.js';
import { UpstreamError } from './errors.js';
import type { ClientId } from './router.js';
import type { SessionOutput } from './session.js';

export interface AccountSessionOptions {
  readonly credentials: AlpacaCredentials;
}

interface AccountClient {
  streams: Set<string>;
  authenticated: boolean;
  /** Answer in the kind of frame the client uses (paper sends JSON in binary frames). */
  binary: boolean;
}

export interface AccountStats {
  events: number;
  heartbeats: number;
  malformedUpstreamFrames: number;
}

export class AccountSession {
  readonly stats: AccountStats = { events: 0, heartbeats: 0, malformedUpstreamFrames: 0 };
  private readonly options: AccountSessionOptions;
  private readonly output: SessionOutput;
  private readonly check: CredentialCheck;
  private readonly clients = new Map<ClientId, AccountClient>();
  private upstreamOpen = false;
  private authorized = false;
  /** The union last sent upstream, to send a listen only when it changes. */
  private upstreamStreams: string[] = [];

  constructor(options: AccountSessionOptions, output: SessionOutput) {
    this.options = options;
    this.output = output;
    this.check = new CredentialCheck(options.credentials);
  }

  get ready(): boolean {
    return this.authorized;
  }

  /** The union of every client's listen set. */
  union(): string[] {
    const all = new Set<string>();
    for (const c of this.clients.values()) for (const s of c.streams) all.add(s);
    return [...all].sort();
  }

  streamsOf(clientId: ClientId): readonly string[] {
    return [...(this.clients.get(clientId)?.streams ?? [])];
  }

  // ---- upstream ----

  onUpstreamOpen(): void {
    this.upstreamOpen = true;
    this.authorized = false;
    this.upstreamStreams = [];
    const { keyId, secretKey } = this.options.credentials;
    this.sendUpstream({ action: 'authenticate', data: { key_id: keyId, secret_key: secretKey } });
  }

  onUpstreamMessage(bytes: Uint8Array, isBinary: boolean): void {
    if (bytes.length === 1 && bytes[0] === 0x01) {
      this.stats.heartbeats++; // SDK heartbeat frame: nothing to route
      return;
    }
    let message: { stream?: unknown; data?: Record<string, unknown> };
    try {
      message = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString());
    } catch {
      this.stats.malformedUpstreamFrames++;
      return;
    }
    const stream = message?.stream;
    if (stream === 'authorization') {
      if (message.data?.status === 'authorized') {
        this.authorized = true;
        this.output.event?.({ type: 'upstream-authenticated' });
        this.syncListen();
      } else {
        this.output.event?.({ type: 'upstream-error', error: new UpstreamError(402, 'unauthorized') });
      }
      return;
    }
    if (stream === 'listening') return; // the answer to our own (union) listen; clients got theirs locally
    if (typeof stream !== 'string') return;
    const recipients: ClientId[] = [];
    for (const [id, c] of this.clients) if (c.streams.has(stream)) recipients.push(id);
    this.stats.events++;
    // Event bytes go out exactly as Alpaca sent them.
    if (recipients.length > 0) this.output.deliver(recipients, bytes, isBinary);
  }

  onUpstreamClosed(): void {
    this.upstreamOpen = false;
    this.authorized = false;
    this.upstreamStreams = [];
  }

  // ---- clients ----

  onClientAttached(clientId: ClientId, options: { authenticated?: boolean } = {}): void {
    if (!this.clients.has(clientId)) {
      this.clients.set(clientId, {
        streams: new Set(),
        authenticated: options.authenticated ?? true,
        binary: false,
      });
    }
  }

  /** A strategy's message; with `answer`, the reply is handed to it instead of delivered (the daemon's subscribe). */
  onClientMessage(
    clientId: ClientId,
    bytes: Uint8Array | string,
    isBinary: boolean,
    answer?: (reply: Uint8Array) => void,
  ): void {
    const client = this.clients.get(clientId);
    if (!client) return;
    const reply = (message: unknown) => {
      if (answer) answer(Buffer.from(JSON.stringify(message)));
      else this.reply(client, clientId, message);
    };
    client.binary = isBinary;
    let message: { action?: unknown; data?: { streams?: unknown } };
    try {
      message = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString());
    } catch {
      reply({ stream: 'error', data: { error_message: 'invalid syntax' } });
      return;
    }
    const credentials = credentialsFromAuthMessage(message);
    if (credentials !== undefined) {
      const ok = credentials !== null && this.check.matches(credentials);
      if (ok) client.authenticated = true;
      reply({
        stream: 'authorization',
        data: { status: ok ? 'authorized' : 'unauthorized', action: 'authenticate' },
      });
      return;
    }
    if (message?.action === 'listen') {
      if (!client.authenticated) {
        reply({
          stream: 'authorization',
          data: { status: 'unauthorized', action: 'listen' },
        });
        return;
      }
      const streams = message.data?.streams;
      const list = Array.isArray(streams) ? streams.filter((s): s is string => typeof s === 'string') : [];
      client.streams = new Set(list);
      reply({ stream: 'listening', data: { streams: [...client.streams] } });
      this.syncListen();
      return;
    }
    reply({ stream: 'error', data: { error_message: 'unrecognized action' } });
  }

  onClientGone(clientId: ClientId): void {
    if (this.clients.delete(clientId)) this.syncListen();
  }

  private syncListen(): void {
    if (!this.authorized) return;
    const union = this.union();
    if (union.length === this.upstreamStreams.length && union.every((s, k) => s === this.upstreamStreams[k]))
      return;
    this.upstreamStreams = union;
    this.sendUpstream({ action: 'listen', data: { streams: union } });
  }

  private sendUpstream(message: unknown): void {
    if (this.upstreamOpen) this.output.sendUpstream(Buffer.from(JSON.stringify(message)), false);
  }

  private reply(client: AccountClient, clientId: ClientId, message: unknown): void {
    this.output.deliver([clientId], Buffer.from(JSON.stringify(message)), client.binary);
  }
}
