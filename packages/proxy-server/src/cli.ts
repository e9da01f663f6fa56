#!/usr/bin/env node
import { createReadStream, existsSync, readFileSync, statSync, watch } from 'node:fs';
import { parseArgs } from 'node:util';
import type { DaemonStatus } from '@wsproxy/protocol';
import { fetchStatus } from './control-client.js';
import { Daemon } from './daemon.js';
import { EXIT_ALREADY_RUNNING } from './daemon-entry.js';
import { isLoopback, parseListenAddress } from './endpoint/listen-address.js';
import type { LocalEndpointOptions } from './endpoint/local-endpoint.js';
import { DaemonAlreadyRunningError, InvalidArgumentError, WsproxyServerError } from './errors.js';
import { assertLogLevel } from './logging.js';
import { DEFAULT_NAMESPACE, runtimeDirFor, runtimePaths } from './runtime-dir.js';

const HELP = `wsproxy — share one upstream WebSocket among many local processes

Usage: wsproxy <command> [options]

Commands:
  start     run the daemon in the foreground (clients spawn it by themselves; this is for debugging
            and service managers)
  stop      ask the running daemon to shut down cleanly
  status    clients, upstream connections and their states, delivery counters, gaps, ring fill
  logs      print the daemon's log file (--follow to keep reading)

Options (every command):
  --namespace <name>     which daemon (default "${DEFAULT_NAMESPACE}"; one daemon per user and namespace)
  --runtime-dir <dir>    folder of the socket and log (default $WSPROXY_RUNTIME_DIR, $XDG_RUNTIME_DIR/wsproxy,
                         or a per-user folder in the temp dir)
  --json                 machine-readable output
  -h, --help             this text

Options (start):
  --linger <ms>               exit this long after the last client left (default 5000)
  --log-level <level>         fatal|error|warn|info|debug|trace|silent (default info)
  --ring-size <bytes>         shared ring capacity, a power of two (default 33554432)
  --max-clients <n>           most clients at once (default 64)
  --idle-client <ms>          when every slot is taken, a client with nothing open for this long gives its
                              slot to a newcomer (default 30000)
  --max-status-bytes <n>      largest status report; a bigger one is cut and says so (default 1048576)
  --ping-interval <ms>        upstream keepalive ping (default 10000; 0 disables)
  --pong-timeout <ms>         upstream declared dead without a pong (default 5000)
  --reconnect-initial <ms>    first reconnect delay ceiling (default 250)
  --reconnect-max <ms>        reconnect delay cap (default 30000)
  --adapter <module>          load an adapter module (repeatable); it exports an UpstreamAdapterFactory
                              as default, \`adapter\` or \`adapters\`. Not needed for clients that name their
                              adapter's module when they open (AlpacaStream does): the daemon loads it then
  --listen <[host:]port>      serve the drop-in endpoint (e.g. Alpaca's protocol for official SDKs) on a local
                              WebSocket port; host defaults to 127.0.0.1 (env WSPROXY_LISTEN). Off unless given
  --listen-token <token>      required from endpoint clients (Bearer header, ?token= or first path segment);
                              mandatory when binding a non-loopback host (env WSPROXY_LISTEN_TOKEN). A flag
                              shows in \`ps\` to every user: prefer --listen-token-file or the env variable
  --listen-token-file <file>  read the token from this file (first line; env WSPROXY_LISTEN_TOKEN_FILE)
  --listen-buffer <bytes>     unsent bytes per endpoint client before it is closed as too slow (default 1048576)
  --listen-max-connections <n>  endpoint TCP connections at once (default 1024, or half the open-file limit)
  --listen-max-per-remote <n>   ... from one remote address (default: --listen-max-connections)
  --listen-auth-timeout <ms>  endpoint clients must authenticate within this (default 10000)
  --tls-cert <file>           serve the endpoint over TLS (wss://) with this PEM certificate (env WSPROXY_TLS_CERT)
  --tls-key <file>            ... and this PEM key (env WSPROXY_TLS_KEY)

Options (logs):
  -f, --follow           keep printing new lines
  -n, --lines <n>        how many lines from the end (default 100)
`;

const options = {
  namespace: { type: 'string' },
  'runtime-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  linger: { type: 'string' },
  'log-level': { type: 'string' },
  'ring-size': { type: 'string' },
  'max-clients': { type: 'string' },
  'idle-client': { type: 'string' },
  'max-status-bytes': { type: 'string' },
  'ping-interval': { type: 'string' },
  'pong-timeout': { type: 'string' },
  'reconnect-initial': { type: 'string' },
  'reconnect-max': { type: 'string' },
  adapter: { type: 'string', multiple: true },
  listen: { type: 'string' },
  'listen-token': { type: 'string' },
  'listen-token-file': { type: 'string' },
  'listen-max-connections': { type: 'string' },
  'listen-max-per-remote': { type: 'string' },
  'listen-buffer': { type: 'string' },
  'listen-auth-timeout': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  lines: { type: 'string', short: 'n' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new InvalidArgumentError(`--${name} must be a non-negative integer`);
  return parsed;
}

/**
 * The endpoint's access token: `--listen-token` (visible in `ps` to every local user), else the first line of
 * `--listen-token-file` / `WSPROXY_LISTEN_TOKEN_FILE`, else `WSPROXY_LISTEN_TOKEN`.
 */
function listenToken(values: Values): string | undefined {
  if (values['listen-token']) return values['listen-token'];
  const file = values['listen-token-file'] ?? process.env.WSPROXY_LISTEN_TOKEN_FILE;
  if (file) {
    let token: string;
    try {
      token = readFileSync(file, 'utf8').split(/\r?\n/)[0]!.trim();
    } catch (error) {
      throw new InvalidArgumentError(
        `--listen-token-file ${file} cannot be read: ${(error as Error).message}`,
      );
    }
    if (!token)
      throw new InvalidArgumentError(`--listen-token-file ${file} holds no token on its first line`);
    return token;
  }
  return process.env.WSPROXY_LISTEN_TOKEN || undefined;
}

/** `--listen` and friends (or their WSPROXY_* environment equivalents): the drop-in endpoint, off unless asked. */
function endpointOptions(values: Values): LocalEndpointOptions | undefined {
  const listen = values.listen ?? process.env.WSPROXY_LISTEN;
  if (!listen) return undefined;
  const { host, port } = parseListenAddress(listen);
  const certFile = values['tls-cert'] ?? process.env.WSPROXY_TLS_CERT;
  const keyFile = values['tls-key'] ?? process.env.WSPROXY_TLS_KEY;
  const accessToken = listenToken(values);
  if (!isLoopback(host) && accessToken) {
    console.error(
      `wsproxy: the endpoint on ${host} is reachable from other machines; clients need the access token`,
    );
  }
  return {
    host,
    port,
    ...(accessToken ? { accessToken } : {}),
    ...(certFile || keyFile ? { tls: { certFile: certFile ?? '', keyFile: keyFile ?? '' } } : {}),
    maxBufferedBytes: integer('listen-buffer', values['listen-buffer']),
    maxConnections: integer('listen-max-connections', values['listen-max-connections']),
    maxConnectionsPerRemote: integer('listen-max-per-remote', values['listen-max-per-remote']),
    joinTimeoutMs: integer('listen-auth-timeout', values['listen-auth-timeout']),
  };
}

async function start(values: Values, namespace: string, runtimeDir: string): Promise<number> {
  const daemon = await Daemon.start({
    namespace,
    runtimeDir,
    lingerMs: integer('linger', values.linger),
    logLevel: values['log-level'] === undefined ? undefined : assertLogLevel(values['log-level']),
    ring: {
      capacityBytes: integer('ring-size', values['ring-size']),
      maxClients: integer('max-clients', values['max-clients']),
    },
    upstream: {
      pingIntervalMs: integer('ping-interval', values['ping-interval']),
      pongTimeoutMs: integer('pong-timeout', values['pong-timeout']),
      reconnect: {
        initialDelayMs: integer('reconnect-initial', values['reconnect-initial']),
        maxDelayMs: integer('reconnect-max', values['reconnect-max']),
      },
    },
    adapterModules: values.adapter ?? [],
    endpoint: endpointOptions(values),
    limits: {
      idleClientMs: integer('idle-client', values['idle-client']),
      maxStatusBytes: integer('max-status-bytes', values['max-status-bytes']),
    },
  });
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.once(event, (error: unknown) => {
      daemon.crash(error).finally(() => process.exit(1));
    });
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => void daemon.shutdown(`signal ${signal}`));
  }
  if (values.json)
    console.log(
      JSON.stringify({
        pid: process.pid,
        socket: daemon.paths.socketPath,
        ring: daemon.ringName,
        ...(daemon.endpoint ? { endpoint: daemon.endpoint.url } : {}),
      }),
    );
  else console.log(`wsproxy daemon ${process.pid} listening on ${daemon.paths.socketPath}`);
  if (daemon.endpoint && !values.json) console.log(`drop-in endpoint on ${daemon.endpoint.url}`);
  await daemon.stopped;
  return 0;
}

function formatStatus(status: DaemonStatus): string {
  const lines = [
    `daemon ${status.daemon.pid} v${status.daemon.version}, up ${Math.round(status.daemon.uptimeMs / 1000)} s, log level ${status.daemon.logLevel}`,
    `ring ${status.ring.name}: ${(status.ring.fill * 100).toFixed(1)}% of ${status.ring.capacityBytes} bytes in use, ${status.ring.recordsWritten} records written`,
    `upstreams (${status.upstreams.length}):`,
    ...status.upstreams.map(
      (u) =>
        `  #${u.connectionId} ${u.url} [${u.adapter}] ${u.state}, clients ${u.clients.join(',') || '-'}, ${u.messagesIn} msgs / ${u.bytesIn} bytes in, ${u.reconnects} reconnects`,
    ),
    `clients (${status.clients.length}):`,
    ...status.clients.map(
      (c) =>
        `  #${c.clientId} ${c.name || '-'} pid ${c.pid} slot ${c.readerSlot}: connections ${c.connections.join(',') || '-'}, delivered ${c.deliveredMessages} msgs / ${c.deliveredBytes} bytes, ${c.gaps} gaps (${c.lostMessages} lost)`,
    ),
  ];
  // Both added by version-2 daemons: a status from an older one simply has neither.
  if (status.endpoint) {
    const { url, connections } = status.endpoint;
    lines.push(`endpoint ${url} (${connections.length} connections):`);
    for (const e of connections) {
      lines.push(
        `  #${e.clientId} ${e.remote} ${e.path} ${e.format} ${e.state}, connection ${e.connectionId ?? '-'}, ${e.messagesIn} msgs in, ${e.messagesOut} msgs / ${e.bytesOut} bytes out, ${e.bufferedBytes} bytes buffered, ${e.dropped} dropped`,
      );
    }
  }
  if (status.adapters) {
    lines.push(
      `adapters: ${status.adapters.map((a) => (a.module ? `${a.name} (${a.module})` : a.name)).join(', ')}`,
    );
  }
  if (status.truncated) {
    const cut = status.truncated.lists.map((l) => `${l.list} shows ${l.shown} of ${l.total}`).join(', ');
    lines.push(`report cut to ${status.truncated.maxBytes} bytes: ${cut}`);
  }
  return lines.join('\n');
}

async function status(values: Values, socketPath: string): Promise<number> {
  if (!existsSync(socketPath)) {
    if (values.json) console.log(JSON.stringify({ running: false }));
    else console.log('no wsproxy daemon is running');
    return 1;
  }
  const report = await fetchStatus(socketPath);
  console.log(values.json ? JSON.stringify({ running: true, ...report }) : formatStatus(report));
  return 0;
}

async function stop(values: Values, socketPath: string): Promise<number> {
  let pid: number;
  try {
    pid = (await fetchStatus(socketPath)).daemon.pid;
  } catch {
    if (values.json) console.log(JSON.stringify({ stopped: false, running: false }));
    else console.log('no wsproxy daemon is running');
    return 1;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  if (values.json) console.log(JSON.stringify({ stopped: true, pid }));
  else console.log(`stopped wsproxy daemon ${pid}`);
  return 0;
}

function printLogLines(text: string, json: boolean): void {
  for (const line of text.split('\n')) {
    if (!line) continue;
    if (json) {
      console.log(line);
      continue;
    }
    try {
      const {
        time,
        level,
        msg,
        pid: _pid,
        hostname: _host,
        ...rest
      } = JSON.parse(line) as Record<string, unknown>;
      const levelName = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }[
        Number(level)
      ];
      const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
      console.log(`${new Date(Number(time)).toISOString()} ${levelName ?? level} ${String(msg)}${extra}`);
    } catch {
      console.log(line);
    }
  }
}

async function logs(values: Values, logPath: string): Promise<number> {
  if (!existsSync(logPath)) {
    console.error(`no log file at ${logPath}`);
    return 1;
  }
  const count = integer('lines', values.lines) ?? 100;
  const lines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean);
  printLogLines(lines.slice(-count).join('\n'), values.json === true);
  if (!values.follow) return 0;
  let offset = statSync(logPath).size;
  await new Promise<void>(() => {
    watch(logPath, () => {
      const size = statSync(logPath).size;
      if (size <= offset) return;
      const stream = createReadStream(logPath, { start: offset, end: size - 1, encoding: 'utf8' });
      offset = size;
      let chunk = '';
      stream.on('data', (data) => {
        chunk += data;
      });
      stream.on('end', () => printLogLines(chunk, values.json === true));
    });
  });
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options,
    allowPositionals: true,
    strict: true,
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(HELP);
    return command || values.help ? 0 : 1;
  }
  const namespace = values.namespace ?? DEFAULT_NAMESPACE;
  const runtimeDir = values['runtime-dir'] ?? runtimeDirFor();
  const paths = runtimePaths(namespace, runtimeDir);
  switch (command) {
    case 'start':
      return start(values, namespace, runtimeDir);
    case 'stop':
      return stop(values, paths.socketPath);
    case 'status':
      return status(values, paths.socketPath);
    case 'logs':
      return logs(values, paths.logPath);
    default:
      throw new InvalidArgumentError(`unknown command ${JSON.stringify(command)}; see wsproxy --help`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Upstream sockets and timers are closed by now; exit even if a library left a handle behind.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (error: unknown) => {
    if (error instanceof DaemonAlreadyRunningError) {
      console.error(error.message);
      process.exit(EXIT_ALREADY_RUNNING);
    }
    const code =
      error instanceof WsproxyServerError || (error as { code?: unknown }).code
        ? ` [${String((error as { code?: unknown }).code)}]`
        : '';
    console.error(`wsproxy: ${(error as Error).message ?? String(error)}${code}`);
    process.exit(1);
  },
);
