// Alpaca's side of the daemon's drop-in endpoint: each local WebSocket connection behaves as if it were talking to
// Alpaca alone — `connected`, its own auth answered locally, its own acks and errors, JSON or msgpack per its
// upgrade's Content-Type — while riding on the shared upstream session like any shared-memory client.

import type { IncomingHttpHeaders } from 'node:http';
import type {
  EndpointConnection,
  EndpointConnectionHandler,
  EndpointFrame,
  EndpointProtocol,
  EndpointUpgrade,
} from '@wsproxy/proxy-server';
import { type AlpacaCredentials, CredentialCheck, credentialsFromAuthMessage } from './auth.js';
import { transcodeFrame } from './endpoint-transcode.js';
import { ALPACA_ERROR_MESSAGES } from './errors.js';
import { classifyAlpacaUrl, type Encoding, type FeedKind, feedByName } from './feeds.js';
import { decodeRaw, encodeFrame, looksLikeJson } from './wire.js';

export interface AlpacaEndpointOptions {
  /** Where market-data paths go. Default `wss://stream.data.alpaca.markets` (env `WSPROXY_ALPACA_DATA_URL`). */
  readonly dataUrl?: string;
  /** Where `/stream` (trade_updates) goes. Default `wss://paper-api.alpaca.markets` (env `WSPROXY_ALPACA_TRADING_URL`). */
  readonly tradingUrl?: string;
  /**
   * Keys configured for the endpoint: a client authenticating with `local` is let in on `upstream` (the keys the
   * daemon uses with Alpaca), so strategies need not know the real keys. Without it, clients present the real keys:
   * they open the upstream, or must match the keys of the upstream already open.
   */
  readonly keys?: { readonly local: AlpacaCredentials; readonly upstream: AlpacaCredentials };
}

const DEFAULT_DATA_URL = 'wss://stream.data.alpaca.markets';
const DEFAULT_TRADING_URL = 'wss://paper-api.alpaca.markets';

/**
 * Alpaca's path for an endpoint path: versioned, or the Go SDK's proxy forms, which ALPACA_FEEDS resolves:
 * `DATA_PROXY_WS` gives `/{feed}` (no version), `DATA_CRYPTO_PROXY_WS` gives `/{loc}` (`/us`, `/global` for perps),
 * and a crypto base URL ending in `/crypto` or `/crypto-perps` gives `/crypto/{loc}`, `/crypto-perps/{loc}`.
 */
export function alpacaPathFor(path: string): string | undefined {
  const trimmed = path.replace(/\/+$/, '') || '/';
  const short = /^\/((?:crypto|crypto-perps)\/[\w-]+|[\w-]+)$/.exec(trimmed);
  const known = short ? feedByName(short[1]!) : undefined;
  if (known) return known.path;
  return classifyAlpacaUrl(`ws://endpoint${trimmed}`) ? trimmed : undefined;
}

function encodingOf(headers: IncomingHttpHeaders): Encoding {
  return (headers['content-type'] ?? '').toLowerCase().includes('msgpack') ? 'msgpack' : 'json';
}

function headerCredentials(headers: IncomingHttpHeaders): AlpacaCredentials | undefined {
  const keyId = headers['apca-api-key-id'];
  const secretKey = headers['apca-api-secret-key'];
  return typeof keyId === 'string' && typeof secretKey === 'string' ? { keyId, secretKey } : undefined;
}

/** Alpaca's error code for a failed join: its own refusal when it gave one, else the local mismatch (402). */
function joinErrorCode(error: unknown): number {
  const alpacaCode = (error as { alpacaCode?: unknown } | undefined)?.alpacaCode;
  if (typeof alpacaCode === 'number') return alpacaCode;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'WSP_ERR_CREDENTIALS_MISMATCH') return 402;
  // The daemon's own bound on dials for new keys: to the SDK it is what Alpaca says when it has no room (406).
  if (code === 'WSP_ERR_RATE_LIMITED') return 406;
  return 500;
}

type Phase = 'unauthenticated' | 'joining' | 'joined';

/** Frames kept while the upstream is being joined; an SDK sends one or two, a flood beyond this is answered 400. */
const MAX_HELD_FRAMES = 64;

/** Which keys open the upstream for credentials a client presented; undefined when they may not. */
function upstreamKeysFor(
  given: AlpacaCredentials,
  keys: (NonNullable<AlpacaEndpointOptions['keys']> & { check: CredentialCheck }) | undefined,
): AlpacaCredentials | undefined {
  // Keys configured for the endpoint: only those get in, on the daemon's own keys.
  if (keys) return keys.check.matches(given) ? keys.upstream : undefined;
  return given;
}

/**
 * One local connection on the account stream (`/stream`): no greeting, `authorization` answers, `listen` handled by
 * the shared AccountSession once joined; events go out exactly as Alpaca sent them (paper: JSON in binary frames).
 */
class AccountConnection implements EndpointConnectionHandler {
  private connection!: EndpointConnection;
  private phase: Phase = 'unauthenticated';
  private readonly held: EndpointFrame[] = [];
  /** Answer in the kind of frame the client uses. */
  private binary = false;

  constructor(
    private readonly upstreamUrl: string,
    private readonly keys:
      | (NonNullable<AlpacaEndpointOptions['keys']> & { check: CredentialCheck })
      | undefined,
  ) {}

  opened(connection: EndpointConnection): void {
    this.connection = connection;
  }

  message(frame: EndpointFrame): void {
    this.binary = frame.isBinary;
    if (this.phase === 'joined') {
      this.connection.toUpstream(frame);
      return;
    }
    if (this.phase === 'joining') {
      if (this.held.length >= MAX_HELD_FRAMES)
        this.reply({ stream: 'error', data: { error_message: 'too many messages' } });
      else this.held.push(frame);
      return;
    }
    let message: unknown;
    try {
      message = decodeRaw(frame.data, 'json');
    } catch {
      this.reply({ stream: 'error', data: { error_message: 'invalid syntax' } });
      return;
    }
    const given = credentialsFromAuthMessage(message);
    if (given === undefined) {
      const action = (message as { action?: unknown } | null)?.action;
      if (action === 'listen')
        this.reply({ stream: 'authorization', data: { status: 'unauthorized', action } });
      else this.reply({ stream: 'error', data: { error_message: 'unrecognized action' } });
      return;
    }
    const credentials = given && upstreamKeysFor(given, this.keys);
    if (!credentials) {
      this.unauthorized();
      return;
    }
    this.phase = 'joining';
    this.connection
      .join({
        url: this.upstreamUrl,
        adapter: 'alpaca',
        credentials: { key: credentials.keyId, secret: credentials.secretKey },
      })
      .then(
        () => {
          this.phase = 'joined';
          this.reply({ stream: 'authorization', data: { status: 'authorized', action: 'authenticate' } });
        },
        () => {
          this.phase = 'unauthenticated';
          this.unauthorized();
        },
      )
      .finally(() => {
        for (const held of this.held.splice(0)) this.message(held);
      });
  }

  outgoing(frame: EndpointFrame): EndpointFrame {
    return frame;
  }

  /** Every account connection sends frames as they came. */
  readonly outgoingKey = 'as-sent';

  joinTimedOut(): undefined {
    return undefined;
  }

  tooSlow(): undefined {
    // The account stream has no slow-client message: the close says it.
    return undefined;
  }

  private unauthorized(): void {
    this.reply({ stream: 'authorization', data: { status: 'unauthorized', action: 'authenticate' } });
  }

  private reply(message: unknown): void {
    this.connection.send({ data: Buffer.from(JSON.stringify(message)), isBinary: this.binary });
  }
}

/** One local connection speaking Alpaca's market-data protocol. */
class MarketDataConnection implements EndpointConnectionHandler {
  private connection!: EndpointConnection;
  private phase: Phase = 'unauthenticated';
  /** Frames that arrived while the upstream was being joined: handled in order once it is. */
  private readonly held: EndpointFrame[] = [];

  constructor(
    private readonly upstreamUrl: string,
    private readonly kind: FeedKind,
    private readonly encoding: Encoding,
    private readonly fromHeaders: AlpacaCredentials | undefined,
    private readonly keys:
      | (NonNullable<AlpacaEndpointOptions['keys']> & { check: CredentialCheck })
      | undefined,
  ) {}

  opened(connection: EndpointConnection): void {
    this.connection = connection;
    this.reply({ T: 'success', msg: 'connected' });
    // Like Alpaca: keys in the upgrade headers authenticate at once.
    if (this.fromHeaders) this.authenticate(this.fromHeaders);
  }

  message(frame: EndpointFrame): void {
    if (this.phase === 'joining') {
      if (this.held.length >= MAX_HELD_FRAMES) this.error(400);
      else this.held.push(frame);
      return;
    }
    let decoded: unknown;
    try {
      decoded = decodeRaw(frame.data, !frame.isBinary || looksLikeJson(frame.data) ? 'json' : 'msgpack');
    } catch {
      this.error(400);
      return;
    }
    const messages = Array.isArray(decoded) ? decoded : [decoded];
    if (this.phase === 'joined') {
      // A second auth is answered here (the shared session would take it for a first one); the rest is its job.
      if (messages.some((m) => credentialsFromAuthMessage(m) !== undefined)) this.error(403);
      else this.connection.toUpstream(frame);
      return;
    }
    for (const message of messages) {
      if ((this.phase as Phase) === 'joining') {
        // What followed the auth in the same frame waits for the join, like a frame of its own.
        this.held.push({ data: Buffer.from(JSON.stringify(message)), isBinary: false });
        continue;
      }
      const credentials = credentialsFromAuthMessage(message);
      if (credentials === null) this.error(402);
      else if (credentials) this.authenticate(credentials);
      else {
        const action = (message as { action?: unknown } | null)?.action;
        this.error(action === 'subscribe' || action === 'unsubscribe' ? 401 : 400);
      }
    }
  }

  /** The conversion depends only on the client's encoding: the endpoint does it once per frame and encoding. */
  get outgoingKey(): string {
    return this.encoding;
  }

  outgoing(frame: EndpointFrame): EndpointFrame {
    const from: Encoding = frame.isBinary && !looksLikeJson(frame.data) ? 'msgpack' : 'json';
    if (from === this.encoding) return frame;
    return {
      data: transcodeFrame(frame.data, from, this.encoding, this.kind),
      isBinary: this.encoding === 'msgpack',
    };
  }

  joinTimedOut(): EndpointFrame {
    return this.frame({ T: 'error', code: 404, msg: ALPACA_ERROR_MESSAGES[404] });
  }

  tooSlow(): EndpointFrame {
    return this.frame({ T: 'error', code: 407, msg: ALPACA_ERROR_MESSAGES[407] });
  }

  private authenticate(given: AlpacaCredentials): void {
    if (this.phase !== 'unauthenticated') {
      this.error(403);
      return;
    }
    const credentials = upstreamKeysFor(given, this.keys);
    if (!credentials) {
      this.error(402);
      return;
    }
    this.phase = 'joining';
    this.connection
      .join({
        url: this.upstreamUrl,
        adapter: 'alpaca',
        credentials: { key: credentials.keyId, secret: credentials.secretKey },
        // Every official SDK speaks msgpack, and options feeds accept nothing else: the shared upstream does too.
        headers: { 'Content-Type': 'application/msgpack' },
      })
      .then(
        () => {
          this.phase = 'joined';
          this.reply({ T: 'success', msg: 'authenticated' });
          for (const frame of this.held.splice(0)) this.message(frame);
        },
        (error: unknown) => {
          // Like Alpaca: the connection stays open, unauthenticated, until it tries again or times out.
          this.phase = 'unauthenticated';
          this.error(joinErrorCode(error));
          for (const frame of this.held.splice(0)) this.message(frame);
        },
      );
  }

  private frame(message: Record<string, unknown>): EndpointFrame {
    return { data: encodeFrame([message], this.encoding), isBinary: this.encoding === 'msgpack' };
  }

  private reply(message: Record<string, unknown>): void {
    this.connection.send(this.frame(message));
  }

  private error(code: number): void {
    this.reply({ T: 'error', code, msg: ALPACA_ERROR_MESSAGES[code] ?? 'internal error' });
  }
}

/** The `alpaca` adapter's endpoint protocol (served by `wsproxy start --listen`). */
export function createAlpacaEndpoint(options: AlpacaEndpointOptions = {}): EndpointProtocol {
  const dataUrl = (options.dataUrl ?? DEFAULT_DATA_URL).replace(/\/+$/, '');
  const tradingUrl = (options.tradingUrl ?? DEFAULT_TRADING_URL).replace(/\/+$/, '');
  const keys = options.keys && { ...options.keys, check: new CredentialCheck(options.keys.local) };
  return {
    accept(upgrade: EndpointUpgrade) {
      const path = alpacaPathFor(upgrade.path);
      if (!path) return { status: 404, message: 'Not Found' };
      if (path === '/stream') return { handler: new AccountConnection(`${tradingUrl}${path}`, keys) };
      return {
        handler: new MarketDataConnection(
          `${dataUrl}${path}`,
          classifyAlpacaUrl(`ws://endpoint${path}`)?.kind as FeedKind,
          encodingOf(upgrade.headers),
          headerCredentials(upgrade.headers),
          keys,
        ),
      };
    },
  };
}

/** Endpoint options from the daemon's environment (`WSPROXY_ALPACA_DATA_URL` / `_TRADING_URL`, endpoint and upstream keys). */
export function alpacaEndpointOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): AlpacaEndpointOptions {
  const localKey = env.WSPROXY_ENDPOINT_KEY_ID;
  const localSecret = env.WSPROXY_ENDPOINT_SECRET_KEY;
  const upstreamKey = env.APCA_API_KEY_ID;
  const upstreamSecret = env.APCA_API_SECRET_KEY;
  return {
    ...(env.WSPROXY_ALPACA_DATA_URL ? { dataUrl: env.WSPROXY_ALPACA_DATA_URL } : {}),
    ...(env.WSPROXY_ALPACA_TRADING_URL ? { tradingUrl: env.WSPROXY_ALPACA_TRADING_URL } : {}),
    ...(localKey && localSecret && upstreamKey && upstreamSecret
      ? {
          keys: {
            local: { keyId: localKey, secretKey: localSecret },
            upstream: { keyId: upstreamKey, secretKey: upstreamSecret },
          },
        }
      : {}),
  };
}
