// Bench reader.  argv: name socketPath mode(throughput|latency|idle) idle
import { connectDoorbell, RingReader } from '../dist/index.js';

const [name, socketPath, mode, idle] = process.argv.slice(2);
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const reader = RingReader.open({ name, idle });
const doorbell = await connectDoorbell(reader, { path: socketPath });

if (mode === 'idle') {
  say({ event: 'ready' });
  const before = process.cpuUsage();
  const started = performance.now();
  // Blocked on an empty ring until the writer closes it after the measuring window.
  while (await reader.ready()) reader.poll(() => {});
  const used = process.cpuUsage(before);
  const ms = performance.now() - started;
  say({ event: 'done', cpuPercent: ((used.user + used.system) / 1000 / ms) * 100, ms });
} else if (mode === 'latency') {
  const latencies = [];
  const onRecord = (buffer, offset) => {
    const now = process.hrtime.bigint();
    const view = new DataView(buffer.buffer, buffer.byteOffset + offset, 8);
    latencies.push(Number(now - view.getBigUint64(0, true)) / 1000);
  };
  say({ event: 'ready' });
  while (await reader.ready()) reader.poll(onRecord);
  say({ event: 'done', latencies });
} else {
  let count = 0;
  let first = 0n;
  const onRecord = () => {
    count++;
  };
  say({ event: 'ready' });
  while (await reader.ready()) {
    if (first === 0n) first = process.hrtime.bigint();
    reader.poll(onRecord);
  }
  const seconds = Number(process.hrtime.bigint() - first) / 1e9;
  say({ event: 'done', count, perSecond: count / seconds, lost: reader.lostRecords });
}
doorbell.close();
reader.close();
