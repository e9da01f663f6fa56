// Proves that the drop-in endpoint serves a URL an SDK snippet names: a real daemon (`wsproxy start --adapter
// @wsproxy/alpaca-adapter/daemon --listen ...`, upstream pointed at the mock) and a plain `ws` client that must see
// Alpaca's `connected`, authenticate with the mock keys and get `authenticated`, as an official SDK would.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import WebSocket from 'ws';
import { bins, MOCK_KEYS, type Watched, type World } from './world.js';

/** How each SDK turns the base URL it is given into a stream URL (docs/drop-in-endpoint.md says the same). */
export const SDK_URL_ENVS: Record<string, string> = {
  APCA_API_STREAM_URL: '/v2/iex', // @alpacahq/alpaca-trade-api v3: appends /v2/{feed}
  DATA_PROXY_WS: '/iex', // alpaca-trade-api-go: appends /{feed}, no version
  DATA_CRYPTO_PROXY_WS: '/us', // alpaca-trade-api-go's CryptoClient: appends /{feed} (marketdata.US is "us")
};

/** A self-signed certificate for 127.0.0.1 in `dir` (cert.pem, key.pem), as the docs suggest for `wss://`. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (!existsSync(cert)) {
    const r = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'].concat([
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ]),
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (r.status !== 0) throw new Error(`openssl could not make a test certificate: ${r.stderr}`);
  }
  return { cert, key };
}

export interface EndpointDaemon {
  readonly child: Watched;
  /** `ws://127.0.0.1:<port>` or `wss://...`, from the daemon's own start line. */
  readonly url: string;
  readonly port: number;
}

/**
 * Starts `wsproxy start ...args` in `world` (its runtime folder, env pointing upstreams at the mock) and waits for
 * its start lines, run from the world's folder inside this package (so `--adapter <package>` resolves as in a user's
 * project). `--listen`'s port, when the docs name one, is replaced by 0: the daemon picks a free one.
 */
export async function startDaemon(
  world: World,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; namespace?: string } = {},
): Promise<EndpointDaemon & { args: string[] }> {
  const real = [...args];
  for (let i = 0; i < real.length - 1; i++) {
    // Port 0: the daemon picks a free one and prints it (no race with other processes for a port we chose).
    if (real[i] === '--listen') {
      const m = /^(?:(.*):)?(\d+)$/.exec(real[i + 1]!);
      if (m) real[i + 1] = `${m[1] ?? '127.0.0.1'}:0`;
    }
  }
  if (options.namespace) real.push('--namespace', options.namespace);
  const child = world.watch(bins.wsproxy!, real, options.env ? { env: options.env } : {});
  const listens = real.includes('--listen');
  await child.waitFor(
    listens ? [/listening on /, /drop-in endpoint on (wss?:\/\/\S+)/] : [/listening on /],
    15_000,
  );
  const url = /drop-in endpoint on (wss?:\/\/\S+)/.exec(child.stdout())?.[1] ?? '';
  return { child, url, port: url ? Number(new URL(url).port) : 0, args: real };
}

/** Connects like an SDK (msgpack): `connected`, auth with the mock keys, `authenticated`. Returns the exchange. */
export async function proveServed(
  url: string,
  options: { ca?: string; msgpack?: boolean; timeoutMs?: number; hold?: WebSocket[] } = {},
): Promise<string> {
  // msgpack unless asked otherwise: every official SDK speaks it on market data (options accept nothing else).
  const msgpack = options.msgpack ?? true;
  const ws = new WebSocket(url, {
    headers: { 'Content-Type': msgpack ? 'application/msgpack' : 'application/json' },
    ...(options.ca ? { ca: readFileSync(options.ca) } : {}),
  });
  const seen: string[] = [];
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${url}: no authenticated within ${options.timeoutMs ?? 10_000} ms; got ${seen.join(' ')}`,
            ),
          ),
        options.timeoutMs ?? 10_000,
      );
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`${url}: HTTP ${res.statusCode} at the upgrade`)),
      );
      ws.once('error', (error) => reject(new Error(`${url}: ${error.message}`)));
      ws.once('close', (code) => reject(new Error(`${url}: closed (${code}) after ${seen.join(' ')}`)));
      ws.on('message', (data: Buffer, isBinary) => {
        const messages = (isBinary ? decode(data) : JSON.parse(data.toString())) as {
          T: string;
          msg?: string;
        }[];
        for (const m of messages) {
          seen.push(JSON.stringify(m));
          if (m.T === 'success' && m.msg === 'connected') {
            const auth = {
              action: 'auth',
              key: MOCK_KEYS.APCA_API_KEY_ID,
              secret: MOCK_KEYS.APCA_API_SECRET_KEY,
            };
            ws.send(msgpack ? encode(auth) : JSON.stringify(auth));
          } else if (m.T === 'success' && m.msg === 'authenticated') {
            clearTimeout(timer);
            resolve(`${msgpack ? 'msgpack' : 'json'}: connected, authenticated`);
          } else if (m.T === 'error') {
            clearTimeout(timer);
            reject(new Error(`${url}: ${JSON.stringify(m)}`));
          }
        }
      });
    });
  } finally {
    ws.removeAllListeners('close');
    ws.on('error', () => {});
    // Held connections keep their upstream open, so checking many paths never redials the mock in a hurry.
    if (options.hold) options.hold.push(ws);
    else ws.close();
  }
}

/** Every ws:// or wss:// URL of a text, in order, without duplicates. */
export function urlsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/wss?:\/\/[^\s"'`)<>]+/g)].map((m) => m[0].replace(/[.,;:]+$/, '')))];
}

/** The docs' example port mapped to the daemon actually started: ws://127.0.0.1:8765/x -> ws://127.0.0.1:<port>/x. */
export function onPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
}
