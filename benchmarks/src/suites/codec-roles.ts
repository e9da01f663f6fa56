// Agent side of the codec suite: encode and decode rates of one data record, in a fresh process so the JIT sees
// only this workload. The package is typed structurally here (and checked at run time) so the harness keeps
// type-checking while @wsproxy/protocol is still being written.
import { opsPerSecond } from '../harness/micro.js';

interface DataRecordInit {
  connectionId: number;
  binary: boolean;
  recipients: number[];
  payload: Uint8Array;
}

interface DecodedRecord {
  connectionId: number;
  payload: Uint8Array;
}

export interface ProtocolCodecApi {
  encodeDataRecordInto(target: Uint8Array, offset: number, init: DataRecordInit): number;
  decodeRingRecordInto(record: DecodedRecord, bytes: Uint8Array): DecodedRecord;
  decodeRingRecord(bytes: Uint8Array): DecodedRecord;
  ringRecordIsFor(bytes: Uint8Array, slot: number): boolean;
  RingRecord: new () => DecodedRecord;
}

const REQUIRED = [
  'encodeDataRecordInto',
  'decodeRingRecordInto',
  'decodeRingRecord',
  'ringRecordIsFor',
  'RingRecord',
] as const;

/** Loads the codec, or explains what is missing. */
export async function loadProtocolCodec(): Promise<ProtocolCodecApi | string> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier('@wsproxy/protocol'))) as Record<string, unknown>;
  } catch (err) {
    return `@wsproxy/protocol cannot be imported (${err instanceof Error ? err.message.split('\n')[0] : err}); run \`pnpm build\` first`;
  }
  const missing = REQUIRED.filter((name) => typeof mod[name] !== 'function');
  if (missing.length > 0) return `@wsproxy/protocol does not export ${missing.join(', ')} (not landed yet?)`;
  return mod as unknown as ProtocolCodecApi;
}

export const PAYLOAD_BYTES = 100;
/** A market-data record usually goes to a few readers: three slots in a recipient list. */
const RECIPIENTS = [0, 3, 5];

export interface CodecRates {
  recordBytes: number;
  encode: number;
  decodeInto: number;
  decodeNew: number;
  isFor: number;
}

export async function codecRates(args: { ms: number }): Promise<CodecRates> {
  const codec = await loadProtocolCodec();
  if (typeof codec === 'string') throw new Error(codec);
  const payload = new TextEncoder().encode(
    `{"T":"q","S":"AAPL","bx":"V","bp":189.91,"bs":3,"ax":"V","ap":189.95,"as":2,"t":"2026-11-22T03:00:00Z"}`
      .padEnd(PAYLOAD_BYTES, ' ')
      .slice(0, PAYLOAD_BYTES),
  );
  const init: DataRecordInit = { connectionId: 1, binary: false, recipients: RECIPIENTS, payload };
  const target = new Uint8Array(4096);
  const recordBytes = codec.encodeDataRecordInto(target, 0, init);
  const bytes = target.slice(0, recordBytes);
  const reused = new codec.RingRecord();

  const encode = opsPerSecond((n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += codec.encodeDataRecordInto(target, (i & 7) * 256, init);
    return sum;
  }, args.ms);
  const decodeInto = opsPerSecond((n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += codec.decodeRingRecordInto(reused, bytes).payload.length;
    return sum;
  }, args.ms);
  const decodeNew = opsPerSecond((n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += codec.decodeRingRecord(bytes).connectionId;
    return sum;
  }, args.ms);
  const isFor = opsPerSecond((n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += codec.ringRecordIsFor(bytes, i & 7) ? 1 : 0;
    return sum;
  }, args.ms);
  return { recordBytes, encode, decodeInto, decodeNew, isFor };
}

/** A non-literal specifier: the package is probed at run time, so the type-check must not depend on its build. */
function specifier(name: string): string {
  return name;
}
