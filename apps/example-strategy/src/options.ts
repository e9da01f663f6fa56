import { parseArgs } from 'node:util';

/** Where the strategy gets its data: the embedded mock, a mock someone else started, or real Alpaca. */
export type DataSource =
  | { kind: 'embedded-mock' }
  | { kind: 'url'; baseUrl: string; keyId: string; secretKey: string }
  | { kind: 'alpaca'; keyId: string; secretKey: string };

export interface StrategyOptions {
  name: string;
  symbols: string[];
  feed: string;
  fast: number;
  slow: number;
  source: DataSource;
  namespace: string | undefined;
  /** Seconds to run; 0 runs until Ctrl-C. */
  duration: number;
  /** Print machine-readable status lines (JSON) instead of prose; the demo reads these. */
  json: boolean;
}

export const HELP = `example-strategy: a moving-average crossover on trades, sharing one Alpaca connection via wsproxy

Usage: example-strategy [options]

Options (each also read from the environment variable shown):
  --symbols LIST   comma-separated symbols             STRATEGY_SYMBOLS   default AAPL,MSFT,NVDA
                   (--feed test forces FAKEPACA)
  --feed NAME      iex, sip, delayed_sip, test, crypto  ALPACA_FEED        default iex
  --fast N         prices in the fast average           STRATEGY_FAST      default 5
  --slow N         prices in the slow average           STRATEGY_SLOW      default 20
  --name NAME      shown by \`wsproxy status\`            STRATEGY_NAME      default crossover-<pid>
  --url URL        stream base URL (e.g. a running alpaca-mock, ws://127.0.0.1:PORT)
                                                        APCA_API_STREAM_URL
  --namespace NS   which wsproxy daemon to share        WSPROXY_NAMESPACE  default "default"
  --duration S     stop after S seconds (0: until Ctrl-C)                  default 0
  --json           one JSON status line per second on stdout (for scripts and the demo)
  -h, --help       this text

Data source:
  - APCA_API_KEY_ID and APCA_API_SECRET_KEY set: real Alpaca (or --url with those keys).
  - otherwise: an Alpaca mock embedded in this process (keys mock-key / mock-secret), or the mock at --url.
No orders are ever placed: the strategy only logs the signals it would trade.
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'EXAMPLE_ERR_USAGE';
}

function positiveInteger(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`--${name} must be a positive integer, got ${raw}`);
  return value;
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): StrategyOptions | 'help' {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';

  const feed = values.feed ?? env.ALPACA_FEED ?? 'iex';
  if (!['iex', 'sip', 'delayed_sip', 'test', 'crypto'].includes(feed)) {
    throw new UsageError(`--feed must be one of iex, sip, delayed_sip, test, crypto; got ${feed}`);
  }
  const symbols =
    feed === 'test'
      ? ['FAKEPACA']
      : (values.symbols ?? env.STRATEGY_SYMBOLS ?? (feed === 'crypto' ? 'BTC/USD,ETH/USD' : 'AAPL,MSFT,NVDA'))
          .split(',')
          .map((s) => s.trim().toUpperCase())
          .filter(Boolean);
  if (symbols.length === 0) throw new UsageError('--symbols must name at least one symbol');

  const fast = positiveInteger('fast', values.fast ?? env.STRATEGY_FAST ?? '5');
  const slow = positiveInteger('slow', values.slow ?? env.STRATEGY_SLOW ?? '20');
  if (slow <= fast) throw new UsageError(`--slow (${slow}) must be larger than --fast (${fast})`);

  const duration = Number(values.duration ?? '0');
  if (!Number.isFinite(duration) || duration < 0) {
    throw new UsageError(`--duration must be a number of seconds >= 0, got ${values.duration}`);
  }

  const keyId = env.APCA_API_KEY_ID;
  const secretKey = env.APCA_API_SECRET_KEY;
  const url = values.url ?? env.APCA_API_STREAM_URL;
  let source: DataSource;
  if (url) {
    if (!/^wss?:\/\//.test(url)) throw new UsageError(`--url must be a ws:// or wss:// URL, got ${url}`);
    source = {
      kind: 'url',
      baseUrl: url.replace(/\/+$/, ''),
      keyId: keyId ?? 'mock-key',
      secretKey: secretKey ?? 'mock-secret',
    };
  } else if (keyId && secretKey) {
    source = { kind: 'alpaca', keyId, secretKey };
  } else {
    source = { kind: 'embedded-mock' };
  }

  return {
    name: values.name ?? env.STRATEGY_NAME ?? `crossover-${process.pid}`,
    symbols,
    feed,
    fast,
    slow,
    source,
    namespace: values.namespace ?? env.WSPROXY_NAMESPACE,
    duration,
    json: values.json ?? false,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      symbols: { type: 'string' },
      feed: { type: 'string' },
      fast: { type: 'string' },
      slow: { type: 'string' },
      name: { type: 'string' },
      url: { type: 'string' },
      namespace: { type: 'string' },
      duration: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
