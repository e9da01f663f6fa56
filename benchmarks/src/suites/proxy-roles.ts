// Agent side of the proxy suite: a strategy process using @wsproxy/client — connect to (or spawn) the daemon,
// open the shared upstream, count the frames that arrive.
import { ReceiveTally, type TallySummary } from '../harness/records.js';
import { loadClient, type SharedSocketApi, type WsproxyClientApi } from './proxy-api.js';

let client: WsproxyClientApi | undefined;
let socket: SharedSocketApi | undefined;
let finished: Promise<TallySummary & { gaps: number }> | undefined;

export async function clientConnect(args: {
  namespace: string;
  runtimeDir: string;
  daemonArgs: string[];
}): Promise<{ pid: number; daemonPid: number }> {
  const api = await loadClient();
  if (typeof api === 'string') throw new Error(api);
  client = await api.connect({
    namespace: args.namespace,
    runtimeDir: args.runtimeDir,
    name: `bench-client-${process.pid}`,
    daemonArgs: args.daemonArgs,
    idle: 'block',
    connectTimeoutMs: 30_000,
  });
  return { pid: process.pid, daemonPid: client.daemonPid };
}

/** Opens (joins) the shared upstream and counts binary records until the end marker. */
export async function clientOpen(args: { url: string }): Promise<void> {
  const s = await client!.open(args.url);
  socket = s;
  const tally = new ReceiveTally();
  let gaps = 0;
  finished = new Promise((resolve, reject) => {
    s.on('error', reject);
    s.on('gap', (info) => {
      gaps += info.lostMessages;
    });
    s.on('close', () => resolve({ ...tally.summary(), gaps }));
    s.on('message', (message) => {
      if (!message.binary) return;
      const data = message.data;
      if (tally.onRecord(data.readUInt32LE(0), data.readUInt32LE(4))) resolve({ ...tally.summary(), gaps });
    });
  });
}

export async function clientFinish(): Promise<TallySummary & { gaps: number }> {
  const result = await finished!;
  finished = undefined;
  await socket?.close();
  socket = undefined;
  return result;
}

/** Keeps the socket open but idle (no data flows) for the idle-CPU window; `clientFinish` ends it. */
export async function clientStatus(): Promise<Record<string, unknown>> {
  const status = await client!.status();
  return status.daemon;
}

export async function clientDisconnect(): Promise<void> {
  await socket?.close();
  socket = undefined;
  await client?.close();
  client = undefined;
}
