// Micro-benchmark of the hot codec paths: encode and decode of a 100-byte data record (what every market-data
// message costs the daemon and each reader), the reader's skip test, and a control frame round trip.
// Reports the median of several runs in messages per second. Run: `pnpm --filter @wsproxy/protocol bench`.
import {
  type ControlMessage,
  decodeControlFrame,
  decodeRingRecord,
  decodeRingRecordInto,
  encodeControlFrameInto,
  encodeDataRecordInto,
  RecipientSet,
  RingRecord,
  ringRecordIsFor,
} from '../src/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const OPS = Number(process.env.BENCH_OPS ?? 2_000_000);

interface Result {
  name: string;
  /** Median over runs of messages per wall-clock second. */
  wall: number;
  /** Median over runs of messages per second of this process's CPU time: steadier on a shared, loaded machine. */
  cpu: number;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function measure(name: string, ops: number, fn: (ops: number) => number): Result {
  fn(Math.min(ops, 200_000)); // warm up: let the JIT settle before timing
  const wall: number[] = [];
  const cpu: number[] = [];
  let sink = 0;
  for (let run = 0; run < RUNS; run++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    sink += fn(ops);
    const ns = Number(process.hrtime.bigint() - start);
    const used = process.cpuUsage(cpuStart);
    wall.push((ops * 1e9) / ns);
    cpu.push((ops * 1e6) / Math.max(1, used.user + used.system));
  }
  if (sink === -1) console.log('unreachable'); // keeps the work observable so it is not optimised away
  return { name, wall: median(wall), cpu: median(cpu) };
}

// A 100-byte record: 12-byte header, 2 recipients (4 bytes), 84-byte payload (a typical Alpaca trade is ~100-150).
const payload = new TextEncoder().encode(
  `{"T":"t","S":"AAPL","i":96921,"x":"D","p":126.55,"s":1,"z":"C"}`.padEnd(84, ' '),
);
const init = { connectionId: 7, binary: false, recipients: [3, 12], payload };
const ring = new Uint8Array(1 << 20);
const recordLength = encodeDataRecordInto(ring, 0, init);
const record = ring.slice(0, recordLength);

const fewReaders = RecipientSet.from([3, 12]);
const setInit = { connectionId: 7, binary: false, recipients: fewReaders, payload };
const manyReaders = RecipientSet.from(Array.from({ length: 300 }, (_, i) => i * 3));
const bitsetInit = { connectionId: 7, binary: false, recipients: manyReaders, payload };

const sendFrame: ControlMessage = { type: 'send', requestId: 1, connectionId: 7, binary: false, payload };
const controlBuf = new Uint8Array(4096);
const controlLength = encodeControlFrameInto(controlBuf, 0, sendFrame);
const controlFrame = controlBuf.slice(0, controlLength);

const results = [
  measure('encode data record (100 B, list of 2)', OPS, (ops) => {
    let pos = 0;
    for (let i = 0; i < ops; i++) {
      if (pos + 256 > ring.length) pos = 0;
      pos += encodeDataRecordInto(ring, pos, init);
    }
    return pos;
  }),
  measure('encode data record (RecipientSet of 2)', OPS, (ops) => {
    let pos = 0;
    for (let i = 0; i < ops; i++) {
      if (pos + 256 > ring.length) pos = 0;
      pos += encodeDataRecordInto(ring, pos, setInit);
    }
    return pos;
  }),
  measure('encode data record (bitset of 300)', OPS / 2, (ops) => {
    let pos = 0;
    for (let i = 0; i < ops; i++) {
      if (pos + 512 > ring.length) pos = 0;
      pos += encodeDataRecordInto(ring, pos, bitsetInit);
    }
    return pos;
  }),
  measure('decode data record (100 B, new object)', OPS, (ops) => {
    let sum = 0;
    for (let i = 0; i < ops; i++) sum += decodeRingRecord(record).payload.length;
    return sum;
  }),
  measure('decode data record (100 B, reused object)', OPS, (ops) => {
    const into = new RingRecord();
    let sum = 0;
    for (let i = 0; i < ops; i++) sum += decodeRingRecordInto(into, record).payload.length;
    return sum;
  }),
  measure('skip test ringRecordIsFor', OPS, (ops) => {
    let hits = 0;
    for (let i = 0; i < ops; i++) if (ringRecordIsFor(record, i & 15)) hits++;
    return hits;
  }),
  measure('encode control send frame (100 B)', OPS / 4, (ops) => {
    let n = 0;
    for (let i = 0; i < ops; i++) n += encodeControlFrameInto(controlBuf, 0, sendFrame);
    return n;
  }),
  measure('decode control send frame (100 B)', OPS / 4, (ops) => {
    let n = 0;
    for (let i = 0; i < ops; i++) n += decodeControlFrame(controlFrame).type.length;
    return n;
  }),
];

console.log(`@wsproxy/protocol codec, node ${process.version}, median of ${RUNS} runs, ${OPS} ops per run`);
console.log(`${'case'.padEnd(44)} ${'wall M/s'.padStart(9)} ${'cpu M/s'.padStart(9)}`);
for (const { name, wall, cpu } of results) {
  console.log(
    `${name.padEnd(44)} ${(wall / 1e6).toFixed(2).padStart(9)} ${(cpu / 1e6).toFixed(2).padStart(9)}`,
  );
}
