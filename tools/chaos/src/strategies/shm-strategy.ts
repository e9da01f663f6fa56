/**
 * A strategy on shared memory: AlpacaStream over @wsproxy/client, exactly as a user writes one. It spawns the
 * daemon itself when none runs (with the harness's `wsproxy start` arguments, so whichever strategy respawns it
 * after a SIGKILL, the daemon is the same), changes its subscriptions when the harness says so, and reports what it
 * receives, what it is told (reconnecting, reconnected, gap, errors) and its own view (`stream.subscriptions`).
 */
import { AlpacaStream } from '@wsproxy/alpaca-adapter';
import { connect } from '@wsproxy/client';
import { itemKey, toChannelSet } from '../subscriptions.js';
import { type Command, DataBatcher, report } from './messages.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const client = await connect({
  runtimeDir: env('CHAOS_RUNTIME_DIR'),
  namespace: env('CHAOS_NAMESPACE'),
  daemonArgs: JSON.parse(env('CHAOS_DAEMON_ARGS')) as string[],
  name: env('CHAOS_NAME'),
  connectTimeoutMs: 20_000,
});
const stream = await AlpacaStream.connect({
  url: env('CHAOS_STREAM_URL'),
  client,
  encoding: 'json',
  credentials: { keyId: env('APCA_API_KEY_ID'), secretKey: env('APCA_API_SECRET_KEY') },
});
const batcher = new DataBatcher();
const view = () => toChannelSet(stream.subscriptions);
const now = Date.now;

stream.on('message', (m) => batcher.add(itemKey(m as unknown as Record<string, unknown>)));
stream.on('reconnecting', (info) => {
  batcher.flush();
  report({ type: 'window', edge: 'open', why: `reconnecting ${JSON.stringify(info)}`, at: now() });
});
stream.on('reconnected', (info) => {
  batcher.flush();
  report({ type: 'window', edge: 'close', why: `reconnected ${JSON.stringify(info)}`, at: now() });
});
stream.on('gap', (info) => {
  batcher.flush();
  report({ type: 'gap', info, at: now() });
});
stream.on('alpacaError', (m) => report({ type: 'event', name: 'alpacaError', detail: m, at: now() }));
stream.on('error', (error) =>
  report({
    type: 'event',
    name: 'error',
    detail: { code: (error as { code?: unknown }).code, message: error.message },
    at: now(),
  }),
);
stream.on('close', (info) => report({ type: 'event', name: 'close', detail: info, at: now() }));

process.on('message', (command: Command) => {
  switch (command.op) {
    case 'change': {
      const change =
        command.action === 'subscribe' ? stream.subscribe(command.set) : stream.unsubscribe(command.set);
      change.then(
        () => report({ type: 'answer', req: command.req, ok: true, view: view(), at: now() }),
        (error: Error & { code?: unknown; alpacaCode?: unknown }) =>
          report({
            type: 'answer',
            req: command.req,
            ok: false,
            view: view(),
            code: String(error.code ?? error.name),
            message: `${error.message}${error.alpacaCode === undefined ? '' : ` (alpaca ${String(error.alpacaCode)})`}`,
            at: now(),
          }),
      );
      return;
    }
    case 'report':
      report({ type: 'view', req: command.req, view: view(), clientId: client.clientId, at: now() });
      return;
    case 'exit':
      batcher.stop();
      void stream
        .close()
        .catch(() => {})
        .then(() => client.close())
        .catch(() => {})
        .finally(() => process.exit(0));
      return;
    case 'stop-reading':
      return; // shared memory readers are slowed with SIGSTOP instead
  }
});
// Joined: from here on nothing may be lost without being told.
report({ type: 'window', edge: 'close', why: 'connected', at: now() });
report({ type: 'ready', at: now() });
