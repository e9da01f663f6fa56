import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT`; a bare port means 127.0.0.1. */
export function parseListenAddress(text: string, option = '--listen'): ListenAddress {
  const m = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65_535) {
    throw new InvalidArgumentError(
      `${option} expects PORT, HOST:PORT or [IPv6]:PORT (port 0-65535); got ${JSON.stringify(text)}`,
    );
  }
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '::ffff:127.0.0.1';
}
