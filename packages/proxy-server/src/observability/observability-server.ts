// `/metrics`, `/healthz` and `/readyz`: on the `--metrics` address, and on the drop-in endpoint's port too.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DaemonStatus } from '@wsproxy/protocol';
import type { Logger } from 'pino';
import { InvalidArgumentError } from '../errors.js';
import { createDaemonMetrics, type DaemonMetrics, type PromClient } from './daemon-metrics.js';
import { readiness } from './readiness.js';

/** The three paths, served from the daemon's status report. */
export class ObservabilityRoutes {
  private constructor(
    private readonly source: () => DaemonStatus,
    private readonly logger: Logger,
    /** Absent when metrics are off: then only the health paths are served. */
    private readonly metrics: DaemonMetrics | undefined,
  ) {}

  /** `prom`: the loaded prom-client (see `loadPromClient`), or undefined to serve only the health paths. */
  static create(
    source: () => DaemonStatus,
    logger: Logger,
    prom: PromClient | undefined,
  ): ObservabilityRoutes {
    return new ObservabilityRoutes(source, logger, prom ? createDaemonMetrics(prom, source) : undefined);
  }

  /**
   * Answers a request for one of our paths; false for any other path (the caller answers). `authorized` is false
   * on an endpoint with an access token when the request did not carry it: metrics need it, health probes do not.
   */
  handle(request: IncomingMessage, response: ServerResponse, authorized = true): boolean {
    const path = new URL(request.url ?? '/', 'http://daemon').pathname;
    if (path !== '/healthz' && path !== '/readyz' && !(path === '/metrics' && this.metrics)) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET only\n');
      return true;
    }
    try {
      if (path === '/healthz') {
        // The process answers: that is all liveness means. Readiness is a separate question.
        this.send(response, 200, 'text/plain; charset=utf-8', 'ok\n');
      } else if (path === '/readyz') {
        const answer = readiness(this.source());
        this.send(response, answer.ready ? 200 : 503, 'application/json', `${JSON.stringify(answer)}\n`);
      } else if (!authorized) {
        response
          .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
          .end('the endpoint access token is required for /metrics\n');
      } else {
        const metrics = this.metrics!;
        metrics.scrape().then(
          (text) => this.send(response, 200, metrics.contentType, text),
          (error: unknown) => this.failed(response, error),
        );
      }
    } catch (error) {
      this.failed(response, error);
    }
    return true;
  }

  private send(response: ServerResponse, status: number, contentType: string, body: string): void {
    response.writeHead(status, {
      'content-type': contentType,
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(body),
    });
    response.end(response.req.method === 'HEAD' ? undefined : body);
  }

  private failed(response: ServerResponse, error: unknown): void {
    this.logger.error({ err: error }, 'observability request failed');
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
    response.end('internal error\n');
  }
}

/** The `--metrics` listener: plain HTTP, serving only the observability paths (404 for anything else). */
export class MetricsServer {
  private constructor(private readonly server: Server) {}

  static async start(host: string, port: number, routes: ObservabilityRoutes): Promise<MetricsServer> {
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new InvalidArgumentError(`the metrics port must be 0-65535; got ${String(port)}`);
    }
    const server = createServer((request, response) => {
      if (!routes.handle(request, response)) {
        response
          .writeHead(404, { 'content-type': 'text/plain' })
          .end('not found: try /metrics, /healthz or /readyz\n');
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new MetricsServer(server);
  }

  /** `http://host:port`. */
  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
