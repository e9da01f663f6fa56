/**
 * The leak phase's client: CHAOS_CYCLES times connect to the daemon, open the shared Alpaca socket, subscribe one
 * symbol, close — the churn of strategies starting and stopping all day. Reports the cycles done and how long.
 */
import { AlpacaStream } from '@wsproxy/alpaca-adapter';
import { connect } from '@wsproxy/client';
import { SYMBOLS } from '../subscriptions.js';
import { report } from './messages.js';

const cycles = Number(process.env.CHAOS_CYCLES);
const started = Date.now();
for (let n = 0; n < cycles; n++) {
  const client = await connect({
    runtimeDir: process.env.CHAOS_RUNTIME_DIR as string,
    namespace: process.env.CHAOS_NAMESPACE as string,
    spawn: false,
    name: 'chaos-churn',
  });
  const stream = await AlpacaStream.connect({
    url: process.env.CHAOS_STREAM_URL as string,
    client,
    encoding: 'json',
    credentials: {
      keyId: process.env.APCA_API_KEY_ID as string,
      secretKey: process.env.APCA_API_SECRET_KEY as string,
    },
  });
  await stream.subscribe({ trades: [SYMBOLS[n % SYMBOLS.length] as string] });
  await stream.close();
  await client.close();
}
report({ type: 'event', name: 'churned', detail: { cycles, ms: Date.now() - started }, at: Date.now() });
process.disconnect();
