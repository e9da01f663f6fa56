#!/usr/bin/env node
import { AlpacaStream, daemonAdapterArgument, feedPath } from '@wsproxy/alpaca-adapter';
/**
 * The example strategy: a per-symbol moving-average crossover on live trades, with minute bars counted alongside.
 * It shares ONE Alpaca connection with every other strategy on this machine through wsproxy; the only wsproxy-
 * specific lines are the `connect` and `AlpacaStream.connect` calls. It logs the signals it would trade.
 */
import { type AlpacaMock, startAlpacaMock } from '@wsproxy/alpaca-mock';
import { connect } from '@wsproxy/client';
import { MovingAverageCrossover, type Signal } from './crossover.js';
import { HELP, parseOptions, type StrategyOptions, UsageError } from './options.js';

/** What the strategy reports each second with --json; the demo's table is built from these lines. */
export interface StrategyStatus {
  type: 'status';
  name: string;
  pid: number;
  daemonPid: number;
  symbols: string[];
  messages: number;
  trades: number;
  bars: number;
  signals: number;
  lastSignal: string | null;
}

const MOCK_KEYS = { keyId: 'mock-key', secretKey: 'mock-secret' };

function describe(signal: Signal): string {
  return `${signal.side.toUpperCase()} ${signal.symbol} @ ${signal.price.toFixed(2)}`;
}

async function run(options: StrategyOptions): Promise<void> {
  let mock: AlpacaMock | undefined;
  let baseUrl: string;
  let credentials = MOCK_KEYS;
  switch (options.source.kind) {
    case 'embedded-mock':
      mock = await startAlpacaMock({ rate: 20 });
      baseUrl = mock.url;
      break;
    case 'url':
      baseUrl = options.source.baseUrl;
      credentials = options.source;
      break;
    case 'alpaca':
      baseUrl = 'wss://stream.data.alpaca.markets';
      credentials = options.source;
      break;
  }

  const client = await connect({
    name: options.name,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    daemonArgs: ['--adapter', daemonAdapterArgument()],
  });
  const stream = await AlpacaStream.connect({
    client,
    url: `${baseUrl}${feedPath(options.feed).path}`,
    credentials,
  });

  const crossovers = new Map(
    options.symbols.map((s) => [s, new MovingAverageCrossover(s, options)] as const),
  );
  const status: StrategyStatus = {
    type: 'status',
    name: options.name,
    pid: process.pid,
    daemonPid: client.daemonPid,
    symbols: options.symbols,
    messages: 0,
    trades: 0,
    bars: 0,
    signals: 0,
    lastSignal: null,
  };
  const log = (line: string) => {
    if (!options.json) console.log(`${new Date().toISOString().slice(11, 19)} ${options.name}  ${line}`);
  };

  stream.on('message', () => status.messages++);
  stream.on('trade', (trade) => {
    status.trades++;
    const signal = crossovers.get(trade.S)?.update(trade.p);
    if (!signal) return;
    status.signals++;
    status.lastSignal = describe(signal);
    log(`${status.lastSignal}  (fast ${signal.fast.toFixed(2)} vs slow ${signal.slow.toFixed(2)})`);
  });
  stream.on('bar', (bar) => {
    status.bars++;
    log(`bar ${bar.S} close ${bar.c} volume ${bar.v}`);
  });
  stream.on('reconnecting', () => log('upstream lost: wsproxy is reconnecting'));
  stream.on('reconnected', () => log('upstream back'));
  stream.on('gap', (info) => log(`data lost while this process was too slow: ${JSON.stringify(info)}`));
  client.on('reconnected', (info) => {
    status.daemonPid = info.daemonPid;
    log(`wsproxy daemon restarted (pid ${info.daemonPid}); subscriptions restored`);
  });

  const ack = await stream.subscribe({ trades: options.symbols, bars: options.symbols });
  const list = (channel: string) => {
    const symbols = ack[channel];
    return Array.isArray(symbols) ? symbols.join(',') : '-';
  };
  log(`subscribed: trades ${list('trades')}; bars ${list('bars')} (daemon pid ${client.daemonPid})`);

  const report = () => {
    if (options.json) process.stdout.write(`${JSON.stringify(status)}\n`);
  };
  report();
  const reporter = setInterval(report, 1000);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    stream.once('close', () => resolve());
    if (options.duration > 0) setTimeout(resolve, options.duration * 1000).unref();
  });

  clearInterval(reporter);
  report();
  await stream.close();
  await client.close();
  await mock?.close();
  log(`done: ${status.trades} trades, ${status.bars} bars, ${status.signals} signals`);
}

async function main(): Promise<void> {
  let options: StrategyOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`example-strategy: ${error.message}\nRun with --help for the options.`);
      process.exit(2);
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(HELP);
    return;
  }
  await run(options);
}

main().catch((error: Error & { code?: string }) => {
  console.error(`example-strategy: ${error.code ? `[${error.code}] ` : ''}${error.message}`);
  process.exit(1);
});
