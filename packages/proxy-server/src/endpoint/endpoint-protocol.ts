// The hook through which a vendor protocol serves local WebSocket clients on the daemon's drop-in endpoint. The
// endpoint (local-endpoint.ts) owns sockets, limits and upstream membership; the protocol only speaks the vendor's
// language (greeting, local auth, errors, encodings). An adapter factory offers one as its `endpoint`.

import type { IncomingHttpHeaders } from 'node:http';
import type { ClientId } from '../adapter.js';
import type { OpenUpstreamRequest } from '../upstream/upstream-registry.js';

/** One frame for a local endpoint client. */
export interface EndpointFrame {
  readonly data: Uint8Array;
  readonly isBinary: boolean;
}

/** An upgrade request as the protocol sees it: the path (access token already removed) and headers. */
export interface EndpointUpgrade {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/** What a protocol's connection handler may do with its local connection. */
export interface EndpointConnection {
  /** Daemon-wide client id of this connection (never the id of a shared-memory client). */
  readonly id: ClientId;
  /** Sends a frame to the local client (dropped once the connection is closing). */
  send(frame: EndpointFrame): void;
  /** Sends an optional last frame, then closes the connection. */
  close(code: number, reason: string, last?: EndpointFrame): void;
  /**
   * Joins the shared upstream for `request` as a member, opening it if nobody has; resolves once it is ready. From
   * then on the upstream's adapter addresses frames to this connection like to any daemon client.
   */
  join(request: OpenUpstreamRequest): Promise<void>;
  /** Hands a client frame to the joined upstream's adapter (its `onClientFrame`), or sends it upstream as is. */
  toUpstream(frame: EndpointFrame): void;
}

/** One local connection, from the protocol's side. */
export interface EndpointConnectionHandler {
  /** The WebSocket is open (send the vendor's greeting here). */
  opened(connection: EndpointConnection): void;
  /** A whole message from the local client (fragments already reassembled). */
  message(frame: EndpointFrame): void;
  /** A frame the upstream's adapter addressed to this connection: returns what the client gets (e.g. transcoded). */
  outgoing(frame: EndpointFrame): EndpointFrame;
  /**
   * Connections whose handlers have the same key turn a frame into the same outgoing frame (e.g. the client's wire
   * format): the endpoint then calls `outgoing` once per key and frame, and sends that one result to all of them.
   * Leave it out when the conversion is per connection.
   */
  readonly outgoingKey?: string;
  /** The frame sent before closing a connection that has not joined an upstream in time (vendor's auth timeout). */
  joinTimedOut(): EndpointFrame | undefined;
  /** The frame sent before closing a connection whose send buffer overflowed (Alpaca: 407 slow client). */
  tooSlow(): EndpointFrame | undefined;
  /** The connection is gone (either side closed it). */
  closed?(): void;
}

/** A vendor protocol for the drop-in endpoint. */
export interface EndpointProtocol {
  /** Checks an upgrade: a handler for the new connection, or an HTTP refusal (unknown path, bad encoding). */
  accept(
    upgrade: EndpointUpgrade,
  ): { readonly handler: EndpointConnectionHandler } | { readonly status: number; readonly message: string };
}
