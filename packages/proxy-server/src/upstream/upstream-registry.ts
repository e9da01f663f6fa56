import type { Logger } from 'pino';
import type { ClientId, UpstreamAdapter, UpstreamAdapterFactory } from '../adapter.js';
import { CredentialsMismatchError, UnknownAdapterError } from '../errors.js';
import { type DialLimits, resolveDialLimits } from '../limits.js';
import { CredentialHasher, type CredentialIdentity } from './credential-identity.js';
import { DialGuard, isCredentialRefusal } from './dial-guard.js';
import { displayUrl } from './display-url.js';
import {
  type ReconnectingInfo,
  UpstreamConnection,
  type UpstreamConnectionOptions,
  type UpstreamState,
  validateUpstreamUrl,
} from './upstream-connection.js';
import { failureOf } from './upstream-failure.js';

export interface OpenUpstreamRequest {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly credentials?: { readonly key: string; readonly secret: string } | null;
  /** Adapter name; default `passthrough`. */
  readonly adapter?: string;
}

/** Daemon-wide upstream settings (keepalive, reconnect, TLS defaults). */
export type UpstreamDefaults = Omit<UpstreamConnectionOptions, 'url' | 'headers'>;

/** What the registry tells the daemon about an upstream, for every member client. */
export interface UpstreamObserver {
  deliver(
    upstream: SharedUpstream,
    recipients: Iterable<ClientId> | 'all',
    data: Uint8Array,
    isBinary: boolean,
  ): void;
  /** The upstream dropped, or its session was refused; `info.failure` says why, typed. A retry is scheduled. */
  reconnecting(upstream: SharedUpstream, info: ReconnectingInfo): void;
  reconnected(upstream: SharedUpstream): void;
  closed(upstream: SharedUpstream, info: { code: number; reason: string }): void;
  /** A frame could not be delivered (the adapter threw): every member lost it, and must hear so as a gap. */
  frameDropped(upstream: SharedUpstream, bytes: number): void;
}

/**
 * One upstream connection and the clients riding on it. It exists from the first open on, before the socket is up,
 * so concurrent opens find it and wait for the same `ready` instead of dialling twice.
 */
export class SharedUpstream {
  readonly id: number;
  readonly key: string;
  readonly url: string;
  readonly connection: UpstreamConnection;
  readonly identity: CredentialIdentity;
  readonly adapterName: string;
  /** Member clients and how many times each opened this upstream. */
  readonly members = new Map<ClientId, number>();
  /**
   * Openers still waiting for `ready`. Passthrough delivers to them too: a server that greets on connect (Alpaca's
   * `connected`) sends that frame before any open has completed, and the opener must not miss it.
   */
  readonly joining = new Map<ClientId, number>();
  adapter!: UpstreamAdapter;
  ready!: Promise<void>;

  constructor(
    id: number,
    key: string,
    url: string,
    identity: CredentialIdentity,
    adapterName: string,
    connection: UpstreamConnection,
  ) {
    this.id = id;
    this.key = key;
    this.url = url;
    this.identity = identity;
    this.adapterName = adapterName;
    this.connection = connection;
  }

  get state(): UpstreamState {
    return this.connection.state;
  }

  /** Everyone a passthrough frame goes to: members, and openers waiting for the connection to be ready. */
  everyone(): Iterable<ClientId> {
    if (this.joining.size === 0) return this.members.keys();
    return new Set([...this.members.keys(), ...this.joining.keys()]);
  }
}

export interface UpstreamRegistryOptions {
  readonly adapters: ReadonlyMap<string, UpstreamAdapterFactory>;
  readonly observer: UpstreamObserver;
  readonly logger: Logger;
  readonly defaults?: UpstreamDefaults;
  readonly hasher?: CredentialHasher;
  /** Bounds on new dials with credentials, and how long refused credentials stay refused locally. */
  readonly dials?: DialLimits;
}

export class UpstreamRegistry {
  private readonly byKey = new Map<string, SharedUpstream>();
  private readonly byId = new Map<number, SharedUpstream>();
  private nextId = 1;
  private readonly hasher: CredentialHasher;
  private readonly dials: DialGuard;

  constructor(private readonly options: UpstreamRegistryOptions) {
    this.hasher = options.hasher ?? new CredentialHasher();
    this.dials = new DialGuard(resolveDialLimits(options.dials));
  }

  get(id: number): SharedUpstream | undefined {
    return this.byId.get(id);
  }

  all(): IterableIterator<SharedUpstream> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Finds or creates the upstream for (url, credential identity) and adds `client` as a member once it is ready.
   * Exactly one caller per upstream lifetime gets `isNew: true`.
   */
  async open(
    client: ClientId,
    request: OpenUpstreamRequest,
  ): Promise<{ upstream: SharedUpstream; isNew: boolean }> {
    validateUpstreamUrl(request.url);
    const adapterName = request.adapter || 'passthrough';
    const factory = this.options.adapters.get(adapterName);
    if (!factory) {
      throw new UnknownAdapterError(adapterName, [...this.options.adapters.keys()]);
    }
    const identity = this.hasher.identify(request, factory.credentialHeaders);
    const key = `${adapterName}\u0000${request.url}\u0000${identity.principal}`;
    let upstream = this.byKey.get(key);
    let isNew = false;
    if (upstream) {
      if (!CredentialHasher.sameProof(upstream.identity.proof, identity.proof)) {
        throw new CredentialsMismatchError(request.url);
      }
    } else {
      // Only dials that spend an account's budget at the vendor are bounded (and remembered when refused).
      if (identity.namesAccount) this.dials.admit(key, identity.principal, identity.proof);
      upstream = this.create(key, request, identity, factory);
      isNew = true;
    }
    upstream.joining.set(client, (upstream.joining.get(client) ?? 0) + 1);
    try {
      await upstream.ready;
    } finally {
      const waiting = (upstream.joining.get(client) ?? 1) - 1;
      if (waiting > 0) upstream.joining.set(client, waiting);
      else upstream.joining.delete(client);
    }
    // The upstream may have been torn down while we waited (every other member left and it closed).
    if (this.byKey.get(key) !== upstream) return this.open(client, request);
    const count = upstream.members.get(client) ?? 0;
    upstream.members.set(client, count + 1);
    if (count === 0) upstream.adapter.onClientJoin?.(client);
    return { upstream, isNew };
  }

  /** Drops one membership (or all of `client`'s with `all`); closes the upstream when nobody is left. */
  async release(client: ClientId, upstream: SharedUpstream, all = false): Promise<void> {
    const count = upstream.members.get(client);
    if (count === undefined) return;
    if (count > 1 && !all) {
      upstream.members.set(client, count - 1);
      return;
    }
    upstream.members.delete(client);
    upstream.adapter.onClientLeave?.(client);
    // Someone still waiting for this upstream to be ready is about to use it: keep it.
    if (upstream.members.size === 0 && upstream.joining.size === 0)
      await this.destroy(upstream, 1000, 'no clients left');
  }

  async releaseClient(client: ClientId): Promise<void> {
    await Promise.all([...this.byId.values()].map((upstream) => this.release(client, upstream, true)));
  }

  async closeAll(code: number, reason: string): Promise<void> {
    await Promise.all([...this.byId.values()].map((upstream) => this.destroy(upstream, code, reason)));
  }

  private create(
    key: string,
    request: OpenUpstreamRequest,
    identity: CredentialIdentity,
    factory: UpstreamAdapterFactory,
  ): SharedUpstream {
    const { observer, logger, defaults } = this.options;
    const connection = new UpstreamConnection({ ...defaults, url: request.url, headers: request.headers });
    const upstream = new SharedUpstream(this.nextId++, key, request.url, identity, factory.name, connection);
    const log = logger.child({ upstream: upstream.id, url: displayUrl(request.url) });
    upstream.adapter = factory.create({
      url: request.url,
      headers: { ...request.headers },
      credentials: request.credentials ?? null,
      logger: log,
      members: () => new Set(upstream.members.keys()),
      sendUpstream: (data, isBinary) => connection.send(data, isBinary),
      deliver: (recipients, data, isBinary) => observer.deliver(upstream, recipients, data, isBinary),
    });
    this.byKey.set(key, upstream);
    this.byId.set(upstream.id, upstream);

    connection.on('message', (data, isBinary) => {
      try {
        upstream.adapter.onUpstreamFrame({ data, isBinary });
      } catch (error) {
        // One bad frame (or an adapter bug) must not take down a daemon that other connections depend on.
        log.error({ err: error, bytes: data.byteLength, isBinary }, 'dropped an upstream frame');
        observer.frameDropped(upstream, data.byteLength);
      }
    });
    connection.on('reconnecting', (info) => {
      const { failure, attempt, delayMs } = info;
      log.warn(
        { attempt, delayMs, code: failure.code, vendorCode: failure.vendorCode },
        `upstream unusable (${failure.message}); reconnecting`,
      );
      try {
        upstream.adapter.onUpstreamLost?.();
      } catch (error) {
        log.error({ err: error }, 'adapter failed on upstream loss');
      }
      observer.reconnecting(upstream, info);
    });
    connection.on('open', ({ reconnected }) => {
      if (!reconnected) return;
      const dial = connection.dials;
      Promise.resolve(upstream.adapter.onUpstreamOpen?.(true)).then(
        () => {
          connection.markReady(dial);
          log.info('upstream reconnected');
          observer.reconnected(upstream);
        },
        // The vendor refused the new session (Alpaca 402/406, auth timeout): end it and keep dialling with backoff.
        (error: unknown) => connection.refuse(failureOf(error), dial),
      );
    });
    connection.on('closed', (info) => {
      log.info(info, 'upstream closed');
      this.forget(upstream);
      observer.closed(upstream, info);
    });

    log.info({ adapter: factory.name, authenticated: identity.authenticated }, 'opening upstream');
    upstream.ready = connection
      .connect()
      .then(() => upstream.adapter.onUpstreamOpen?.(false))
      .then(
        () => {
          if (identity.namesAccount) this.dials.accepted(key, identity.principal);
          connection.markReady();
        },
        async (error: unknown) => {
          // Remembered before the upstream is forgotten: an open arriving while it closes must not dial again.
          if (identity.authenticated && isCredentialRefusal(error))
            this.dials.refused(key, identity.proof, error);
          await this.destroy(upstream, 1011, 'not ready');
          throw error;
        },
      );
    // Failures reach every opener through `await ready`; this only keeps Node from reporting them as unhandled.
    upstream.ready.catch(() => {});
    return upstream;
  }

  private forget(upstream: SharedUpstream): void {
    if (this.byKey.get(upstream.key) === upstream) this.byKey.delete(upstream.key);
    this.byId.delete(upstream.id);
  }

  private async destroy(upstream: SharedUpstream, code: number, reason: string): Promise<void> {
    this.forget(upstream);
    upstream.adapter.dispose?.();
    await upstream.connection.close(code, reason);
  }
}
