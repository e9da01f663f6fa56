import { AlpacaStream } from '@wsproxy/alpaca-adapter';

// Keys from APCA_API_KEY_ID / APCA_API_SECRET_KEY. Every process running this shares ONE Alpaca connection:
// the first one starts the wsproxy daemon, the others join it.
const stream = await AlpacaStream.connect({ feed: 'iex' });

stream.on('trade', (trade) => console.log(`trade ${trade.S} ${trade.p} x ${trade.s}`));
stream.on('bar', (bar) => console.log(`bar ${bar.S} closed the minute at ${bar.c}`));
stream.on('reconnected', () => console.log('upstream back, subscriptions restored'));

const ack = await stream.subscribe({ trades: ['AAPL', 'MSFT'], bars: ['AAPL'] });
console.log(`subscribed to trades of ${ack.trades}`);

process.once('SIGINT', () => void stream.close());
