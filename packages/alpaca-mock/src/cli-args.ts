/**
 * The CLI's flags, turned into AlpacaMockOptions. Kept apart from cli.ts so the parsing has no side effects.
 */
import { parseArgs } from 'node:util';
import { CRYPTO_SYMBOL, OPTION_SYMBOL } from './endpoints.js';
import { InvalidOptionError, UsageError } from './errors.js';
import {
  type AlpacaMockOptions,
  DEFAULT_KEY,
  DEFAULT_OPTIONS,
  DEFAULT_SECRET,
  type KeyPair,
} from './options.js';

export const HELP = `Usage: alpaca-mock [options]

A local WebSocket server speaking Alpaca's streaming protocol (market data and the account
stream), with a deterministic synthetic market and Alpaca's REST snapshots on the same port.

Options:
  -p, --port <n>              TCP port (default ${DEFAULT_OPTIONS.port}: pick a free one)
      --host <addr>           interface to listen on (default ${DEFAULT_OPTIONS.host}, loopback only)
      --symbols <list>        comma-separated symbols that "*" expands to; each goes to its asset class:
                              BTC/USD -> crypto, AAPL240315C00172500 -> options, else stocks
                              (default stocks ${DEFAULT_OPTIONS.symbols.stocks.join(',')})
      --seed <n>              PRNG seed of the synthetic market (default ${DEFAULT_OPTIONS.seed})
      --rate <n|preset>       messages per second per subscribed symbol and channel, or a preset:
                              "default" (10/s) or "firehose" (50000/s in batches of 500)
      --batch-size <n>        market ticks per timer firing / frame (default 1; firehose 500)
      --tick-ms <ms>          synthetic milliseconds per tick (default 1000/rate: real pace)
      --start-time <iso>      synthetic clock start (default 2024-01-02T14:30:00Z; "now" for now)
      --keys <k:s,...>        accepted key pairs as KEY:SECRET, comma-separated
                              (default ${DEFAULT_KEY}:${DEFAULT_SECRET})
      --connection-limit <n>  authenticated sessions per endpoint and key; one more gets 406 (default 1)
      --auth-timeout <ms>     no auth within this time -> 404 and close (default ${DEFAULT_OPTIONS.authTimeoutMs})
      --symbol-limit <n|none> distinct trades+quotes symbols per session; beyond -> 405 (default ${DEFAULT_OPTIONS.symbolLimit})
      --tail <ms>             data keeps flowing this long after an unsubscribe (default ${DEFAULT_OPTIONS.unsubscribeTailMs})
      --half-dead <ms>        a dropped session keeps its slot this long, like Alpaca's ~90 s (default 0: off)
      --upgrade-limit <n/ms>  answer more than n upgrades per ms window with HTTP 429 (default: no limit)
      --deflate               offer permessage-deflate (default off)
  -h, --help                  show this help

Endpoints (ws://HOST:PORT/<path>):
  stocks   v2/iex  v2/sip  v2/delayed_sip  v2/test (FAKEPACA)  v1beta1/boats  v1beta1/overnight
  crypto   v1beta3/crypto/us  v1beta3/crypto/us-1  v1beta3/crypto/eu-1
  options  v1beta1/indicative  v1beta1/opra   (msgpack only: send Content-Type: application/msgpack)
  news     v1beta1/news
  account  stream   (trade_updates)
  JSON by default; msgpack with the upgrade header Content-Type: application/msgpack.
  Auth: {"action":"auth","key":KEY,"secret":SECRET} or headers APCA-API-KEY-ID / APCA-API-SECRET-KEY.

REST (http://HOST:PORT, headers APCA-API-KEY-ID / APCA-API-SECRET-KEY):
  /v2/stocks/snapshots?symbols=  /v2/stocks/{symbol}/snapshot
  /v2/stocks/{trades|quotes|bars}/latest?symbols=  /v2/stocks/{symbol}/{trades|quotes|bars}/latest
  /v1beta3/crypto/us/snapshots?symbols=  /v1beta3/crypto/us/latest/{orderbooks|trades|quotes|bars}?symbols=

Stops cleanly on SIGINT / SIGTERM. Exit codes: 0 ok, 1 cannot listen, 2 bad usage.
`;

export type CliCommand = { help: true } | { help: false; options: AlpacaMockOptions };

function int(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

function num(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag} must be a positive number, got "${value}"`);
  }
  return n;
}

export function parseCli(argv: string[]): CliCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  const options: AlpacaMockOptions = {};
  if (v.port !== undefined) options.port = int('--port', v.port);
  if (v.host !== undefined) options.host = v.host;
  if (v.seed !== undefined) options.seed = int('--seed', v.seed);
  if (v.rate !== undefined) {
    options.rate = v.rate === 'firehose' || v.rate === 'default' ? v.rate : num('--rate', v.rate);
  }
  if (v['batch-size'] !== undefined) options.batchSize = int('--batch-size', v['batch-size']);
  if (v['tick-ms'] !== undefined) options.tickMs = num('--tick-ms', v['tick-ms']);
  if (v['start-time'] !== undefined) {
    options.startTime = v['start-time'] === 'now' ? new Date() : v['start-time'];
  }
  if (v.symbols !== undefined) {
    const stocks: string[] = [];
    const crypto: string[] = [];
    const opts: string[] = [];
    for (const s of v.symbols
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      if (CRYPTO_SYMBOL.test(s)) crypto.push(s);
      else if (OPTION_SYMBOL.test(s)) opts.push(s);
      else stocks.push(s);
    }
    options.symbols = {};
    if (stocks.length > 0) options.symbols.stocks = stocks;
    if (crypto.length > 0) options.symbols.crypto = crypto;
    if (opts.length > 0) options.symbols.options = opts;
  }
  if (v.keys !== undefined) {
    options.keys = v.keys.split(',').map((pair): KeyPair => {
      const at = pair.indexOf(':');
      if (at <= 0 || at === pair.length - 1)
        throw new UsageError(`--keys entries must be KEY:SECRET, got "${pair}"`);
      return { key: pair.slice(0, at), secret: pair.slice(at + 1) };
    });
  }
  if (v['connection-limit'] !== undefined)
    options.connectionLimit = int('--connection-limit', v['connection-limit']);
  if (v['auth-timeout'] !== undefined) options.authTimeoutMs = int('--auth-timeout', v['auth-timeout']);
  if (v['symbol-limit'] !== undefined) {
    options.symbolLimit =
      v['symbol-limit'] === 'none' ? Number.POSITIVE_INFINITY : int('--symbol-limit', v['symbol-limit']);
  }
  if (v.tail !== undefined) options.unsubscribeTailMs = int('--tail', v.tail);
  if (v['half-dead'] !== undefined) options.halfDeadMs = int('--half-dead', v['half-dead']);
  if (v['upgrade-limit'] !== undefined) {
    const match = /^(\d+)\/(\d+)$/.exec(v['upgrade-limit']);
    if (!match) throw new UsageError(`--upgrade-limit must be N/MS, got "${v['upgrade-limit']}"`);
    options.upgradeRateLimit = { max: Number(match[1]), windowMs: Number(match[2]) };
  }
  if (v.deflate) options.perMessageDeflate = true;
  return { help: false, options };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      symbols: { type: 'string' },
      seed: { type: 'string' },
      rate: { type: 'string' },
      'batch-size': { type: 'string' },
      'tick-ms': { type: 'string' },
      'start-time': { type: 'string' },
      keys: { type: 'string' },
      'connection-limit': { type: 'string' },
      'auth-timeout': { type: 'string' },
      'symbol-limit': { type: 'string' },
      tail: { type: 'string' },
      'half-dead': { type: 'string' },
      'upgrade-limit': { type: 'string' },
      deflate: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

export { InvalidOptionError };
