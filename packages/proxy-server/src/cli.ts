#!/usr/bin/env node
import { createReadStream, existsSync, readFileSync, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { DaemonStatus } from '@wsproxy/protocol';
import {
  durationOption,
  integerOption,
  lingerOption,
  parseCli,
  ringSizeOption,
  type CliValues as Values,
} from './cli-args.js';
import { fetchStatus } from './control-client.js';
import { Daemon, packageVersion } from './daemon.js';
import { EXIT_ALREADY_RUNNING } from './daemon-entry.js';
import { isLoopback, parseListenAddress } from './endpoint/listen-address.js';
import type { LocalEndpointOptions } from './endpoint/local-endpoint.js';
import { DaemonAlreadyRunningError, InvalidArgumentError, WsproxyServerError } from './errors.js';
import { assertLogLevel, DEFAULT_LOG_MAX_BYTES, MIN_LOG_MAX_BYTES } from './logging.js';
import { DEFAULT_NAMESPACE, runtimeDirFor, runtimePaths } from './runtime-dir.js';
import { runTop } from './top/top-command.js';

const HELP = `wsproxy — share one upstream WebSocket among many local processes

Usage: wsproxy <command> [options]

Commands:
  start     run the daemon in the foreground (clients spawn it by themselves; this is for debugging
            and service managers)
  stop      ask the running daemon to shut down cleanly
  status    clients, upstream connections and their states, delivery counters, gaps, ring fill
  logs      print the daemon's log file (--follow to keep reading)
  top       live view of upstreams, clients, rates, lag, gaps and subscriptions, refreshed each second
            (q or Ctrl-C quits; plain lines when stdout is not a terminal)

Options (every command):
  --namespace <name>     which daemon (default $WSPROXY_NAMESPACE or "${DEFAULT_NAMESPACE}"; one daemon per user
                         and namespace)
  --runtime-dir <dir>    folder of the socket and log (default $WSPROXY_RUNTIME_DIR, $XDG_RUNTIME_DIR/wsproxy,
                         or a per-user folder in the temp dir)
  --json                 machine-readable output
  -h, --help             this text
  -v, --version          the version of this wsproxy

Options (start):
  --linger <ms|never>         exit this long after the last client left (default 5000; at most 2147483647);
                              never: stay until stopped (for service managers)
  --log-level <level>         fatal|error|warn|info|debug|trace|silent (default info)
  --log-max-bytes <bytes>     rotate the log to <log>.1 past this size (default ${DEFAULT_LOG_MAX_BYTES}; the log
                              lives in RAM on tmpfs, so at most twice this is kept)
  --ring-size <bytes>         shared ring capacity, a power of two (default 33554432)
  --max-clients <n>           most clients at once (default 64)
  --idle-client <ms>          when every slot is taken, a client with nothing open for this long gives its
                              slot to a newcomer (default 30000)
  --max-status-bytes <n>      largest status report; a bigger one is cut and says so (default 1048576)
  --ping-interval <ms>        upstream keepalive ping (default 10000; 0 disables). Every <ms> is at most
                              2147483647, the longest delay a timer can hold
  --pong-timeout <ms>         upstream declared dead without a pong (default 5000)
  --reconnect-initial <ms>    first reconnect delay ceiling (default 250)
  --reconnect-max <ms>        reconnect delay cap (default 30000)
  --reconnect-attempts <n>    give an upstream up after this many failed redials in a row (default: never)
  --adapter <module>          load an adapter module (repeatable); it exports an UpstreamAdapterFactory
                              as default, \`adapter\` or \`adapters\`. Not needed for clients that name their
                              adapter's module when they open (AlpacaStream does): the daemon loads it then
  --listen <[host:]port>      serve the drop-in endpoint (e.g. Alpaca's protocol for official SDKs) on a local
                              WebSocket port; host defaults to 127.0.0.1 (env WSPROXY_LISTEN). Off unless given.
                              Without an --adapter serving one, @wsproxy/alpaca-adapter is loaded for it
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
  --metrics <[host:]port>     serve /metrics (Prometheus), /healthz and /readyz over HTTP; host defaults to
                              127.0.0.1 (env WSPROXY_METRICS). Off unless given. With --listen, the endpoint's
                              port serves them too (/metrics there needs the access token, if one is set)

Options (top):
  --interval <ms>        time between refreshes (default 1000)
  --count <n>            stop after n refreshes (default: until q, Ctrl-C or a signal)

Options (logs):
  -f, --follow           keep printing new lines
  -n, --lines <n>        how many lines from the end (default 100)
`;

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
    maxBufferedBytes: integerOption('listen-buffer', values['listen-buffer'], 1, Number.MAX_SAFE_INTEGER),
    joinTimeoutMs: durationOption('listen-auth-timeout', values['listen-auth-timeout'], 1),
    maxConnections: integerOption(
      'listen-max-connections',
      values['listen-max-connections'],
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    maxConnectionsPerRemote: integerOption(
      'listen-max-per-remote',
      values['listen-max-per-remote'],
      1,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

/** `--metrics [host:]port` (or WSPROXY_METRICS): the observability listener, off unless asked. */
function metricsOptions(values: Values): { host: string; port: number } | undefined {
  const address = values.metrics ?? process.env.WSPROXY_METRICS;
  if (!address) return undefined;
  const { host, port } = parseListenAddress(address, '--metrics');
  if (!isLoopback(host)) {
    console.error(`wsproxy: /metrics on ${host} is reachable from other machines (it carries no secrets)`);
  }
  return { host, port };
}

async function start(values: Values, namespace: string, runtimeDir: string): Promise<number> {
  const daemon = await Daemon.start({
    namespace,
    runtimeDir,
    lingerMs: lingerOption(values.linger),
    logLevel: values['log-level'] === undefined ? undefined : assertLogLevel(values['log-level']),
    logMaxBytes: integerOption(
      'log-max-bytes',
      values['log-max-bytes'],
      MIN_LOG_MAX_BYTES,
      Number.MAX_SAFE_INTEGER,
    ),
    ring: {
      capacityBytes: ringSizeOption(values['ring-size']),
      // One reader slot per client; the ring holds at most 4096.
      maxClients: integerOption('max-clients', values['max-clients'], 1, 4096),
    },
    upstream: {
      pingIntervalMs: durationOption('ping-interval', values['ping-interval']),
      pongTimeoutMs: durationOption('pong-timeout', values['pong-timeout'], 1),
      reconnect: {
        initialDelayMs: durationOption('reconnect-initial', values['reconnect-initial'], 1),
        maxDelayMs: durationOption('reconnect-max', values['reconnect-max'], 1),
        maxAttempts: integerOption(
          'reconnect-attempts',
          values['reconnect-attempts'],
          1,
          Number.MAX_SAFE_INTEGER,
        ),
      },
    },
    adapterModules: values.adapter ?? [],
    endpoint: endpointOptions(values),
    metrics: metricsOptions(values),
    limits: {
      idleClientMs: durationOption('idle-client', values['idle-client'], 1),
      maxStatusBytes: integerOption(
        'max-status-bytes',
        values['max-status-bytes'],
        4096,
        Number.MAX_SAFE_INTEGER,
      ),
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
        ...(daemon.metricsServer ? { metrics: daemon.metricsServer.url } : {}),
      }),
    );
  else console.log(`wsproxy daemon ${process.pid} listening on ${daemon.paths.socketPath}`);
  if (daemon.endpoint && !values.json) console.log(`drop-in endpoint on ${daemon.endpoint.url}`);
  if (daemon.metricsServer && !values.json) console.log(`metrics on ${daemon.metricsServer.url}/metrics`);
  await daemon.stopped;
  return 0;
}

/** While an upstream is down: why (catalogue and vendor code), how many tries so far, when the next one is. */
function upstreamTrouble(u: DaemonStatus['upstreams'][number]): string {
  const parts: string[] = [];
  if (u.attempt !== undefined) parts.push(`attempt ${u.attempt}`);
  if (u.nextRetryAt !== undefined) parts.push(`next try in ${Math.max(0, u.nextRetryAt - Date.now())} ms`);
  if (u.lastError) {
    const vendor = u.lastError.vendorCode === undefined ? '' : ` (vendor ${u.lastError.vendorCode})`;
    parts.push(`last error ${u.lastError.code}${vendor}: ${u.lastError.message}`);
  }
  return parts.length > 0 ? `; ${parts.join(', ')}` : '';
}

/** The adapter's own plain figures of an upstream (`name value` pairs), when it reports any. */
function formatAdapterStats(stats: unknown): string {
  if (typeof stats !== 'object' || stats === null) return '';
  const pairs = Object.entries(stats as Record<string, unknown>)
    .filter(([, value]) => ['number', 'boolean', 'string'].includes(typeof value))
    .map(([key, value]) => `${key} ${String(value)}`);
  return pairs.length > 0 ? `; ${pairs.join(', ')}` : '';
}

function formatStatus(status: DaemonStatus): string {
  const lines = [
    `daemon ${status.daemon.pid} v${status.daemon.version}, up ${Math.round(status.daemon.uptimeMs / 1000)} s, log level ${status.daemon.logLevel}`,
    `ring ${status.ring.name}: ${(status.ring.fill * 100).toFixed(1)}% of ${status.ring.capacityBytes} bytes in use, ${status.ring.recordsWritten} records written`,
    `upstreams (${status.upstreams.length}):`,
    ...status.upstreams.map(
      (u) =>
        `  #${u.connectionId} ${u.url} [${u.adapter}] ${u.state}, clients ${u.clients.join(',') || '-'}, ${u.messagesIn} msgs / ${u.bytesIn} bytes in, ${u.reconnects} reconnects${upstreamTrouble(u)}${formatAdapterStats(u.adapterStats)}`,
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
  const count = integerOption('lines', values.lines, 0, Number.MAX_SAFE_INTEGER) ?? 100;
  if (!existsSync(logPath)) {
    console.error(`no log file at ${logPath}`);
    return 1;
  }
  const lines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean);
  printLogLines(lines.slice(-count).join('\n'), values.json === true);
  if (!values.follow) return 0;
  let offset = statSync(logPath).size;
  await new Promise<void>(() => {
    // The folder, not the file: after a rotation the file at this path is a new one.
    watch(dirname(logPath), (_event, name) => {
      if (name !== basename(logPath) || !existsSync(logPath)) return;
      const size = statSync(logPath).size;
      // Rotated (see --log-max-bytes): the file is new, read it from its start.
      if (size < offset) offset = 0;
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
  const { values, positionals } = parseCli(argv);
  if (values.version) {
    console.log(values.json ? JSON.stringify({ version: packageVersion() }) : packageVersion());
    return 0;
  }
  const command = positionals[0];
  if (values.help || !command) {
    console.log(HELP);
    return command || values.help ? 0 : 1;
  }
  // Like @wsproxy/client: the environment names the daemon unless the command line does.
  const namespace = values.namespace ?? process.env.WSPROXY_NAMESPACE ?? DEFAULT_NAMESPACE;
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
    case 'top':
      return runTop({
        socketPath: paths.socketPath,
        intervalMs: durationOption('interval', values.interval, 1),
        count: integerOption('count', values.count, 1, Number.MAX_SAFE_INTEGER),
      });
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
