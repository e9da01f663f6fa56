#!/usr/bin/env node
/**
 * `alpaca-mock`: run the mock from a shell. Prints where it listens, stops cleanly on SIGINT/SIGTERM.
 */
import { HELP, parseCli } from './cli-args.js';
import { AlpacaMockError } from './errors.js';
import { startAlpacaMock } from './server.js';

async function main(): Promise<number | null> {
  let command: ReturnType<typeof parseCli>;
  try {
    command = parseCli(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`alpaca-mock: ${(error as Error).message}\nTry 'alpaca-mock --help'.\n`);
    return 2;
  }
  if (command.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let mock: Awaited<ReturnType<typeof startAlpacaMock>>;
  try {
    mock = await startAlpacaMock(command.options);
  } catch (error) {
    const code = error instanceof AlpacaMockError ? error.code : 'ERROR';
    process.stderr.write(`alpaca-mock: ${(error as Error).message} (${code})\n`);
    return error instanceof AlpacaMockError && error.code === 'ALPACA_MOCK_ERR_LISTEN' ? 1 : 2;
  }
  // Signal handlers first: whoever reads the URL may signal us at once.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`alpaca-mock: ${signal}, closing\n`);
    mock.close({ graceful: true }).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const o = mock.options;
  process.stdout.write(
    [
      `alpaca-mock listening on ${mock.url}`,
      `  stocks  ${mock.url}/v2/iex   crypto ${mock.url}/v1beta3/crypto/us   account ${mock.url}/stream`,
      `  REST    ${mock.httpUrl}/v2/stocks/snapshots?symbols=${o.symbols.stocks[0] ?? 'AAPL'}`,
      // Only key ids: secrets never go to logs, even a mock's.
      `  keys    ${o.keys.map((k) => k.key).join(', ')}   seed ${o.seed}   rate ${o.rate}/s   connection limit ${o.connectionLimit}`,
      '',
    ].join('\n'),
  );
  return null;
}

main().then((code) => {
  if (code !== null) process.exitCode = code;
});
