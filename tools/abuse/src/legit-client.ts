// The legitimate strategy the abuse suite protects: AlpacaStream through the daemon's Unix socket and shared ring,
// in its own process. Prints `{"count":n,"gaps":g}` every 250 ms, and on SIGTERM `{"final":true,"trades":[...]}` with
// the id of every trade it got, so the runner can check it against what the mock sent.
import { AlpacaStream } from '@wsproxy/alpaca-adapter';

const symbols = JSON.parse(process.env.ABUSE_SYMBOLS ?? '["AAPL","MSFT"]') as string[];
const stream = await AlpacaStream.connect({
  url: process.env.ABUSE_URL,
  credentials: { keyId: 'mock-key', secretKey: 'mock-secret' },
  connectOptions: {
    runtimeDir: process.env.ABUSE_RUNTIME_DIR,
    namespace: process.env.ABUSE_NAMESPACE,
    spawn: false,
    name: 'legit-client',
  },
});
const trades: string[] = [];
let gaps = 0;
stream.on('trade', (trade) => trades.push(`${trade.S}|${'i' in trade ? trade.i : ''}`));
stream.on('gap', () => {
  gaps++;
});
await stream.subscribe({ trades: symbols });
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
print({ subscribed: true });
const timer = setInterval(() => print({ count: trades.length, gaps }), 250);
process.once('SIGTERM', () => {
  clearInterval(timer);
  print({ final: true, gaps, trades });
  void stream.close().finally(() => process.exit(0));
});
