// Real daemon processes (the `wsproxy` CLI) and a hand-rolled protocol client for the proxy-server suites: this
// package cannot depend on @wsproxy/client, and speaking the protocol by hand also lets a test pick the version.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { connect as connectSocket, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type ClientRequest,
  type ConnectionEvent,
  ControlStreamDecoder,
  type DaemonMessage,
  encodeControlFrame,
  SUPPORTED_VERSIONS,
  type Welcome,
} from '@wsproxy/protocol';
import { daemonEntryPath } from '@wsproxy/proxy-server';

const run = promisify(execFile);

export async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [daemonEntryPath, ...args], {
      timeout: 15_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

export interface DaemonProcess {
  readonly child: ChildProcess;
  /** What `wsproxy start --json` printed: pid, socket, ring, and the endpoint and metrics URLs when it serves them. */
  readonly info: { pid: number; socket: string; ring: string; endpoint?: string; metrics?: string };
  /** SIGTERM, then SIGKILL after 5 s; removes the ring segment if the daemon could not. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** `wsproxy start --json <args>` in the foreground; resolves once it says where it listens. */
export async function startDaemon(args: string[], env: Record<string, string> = {}): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [daemonEntryPath, 'start', '--json', '--linger', '60000', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited(child);
    clearTimeout(timer);
    for (const name of readdirSync('/dev/shm').filter((n) => n.endsWith(`-${child.pid}`))) {
      rmSync(join('/dev/shm', name), { force: true });
    }
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the daemon did not start in 15 s: ${stderr}`)),
        15_000,
      );
      child.stdout!.once('data', (chunk: Buffer) => {
        clearTimeout(timer);
        resolve(chunk.toString());
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the daemon exited (${code}): ${stderr}`));
      });
    });
    return { child, info: JSON.parse(line) as DaemonProcess['info'], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

type Outgoing = ClientRequest extends infer R
  ? R extends ClientRequest
    ? Omit<R, 'requestId'>
    : never
  : never;

/** One control connection speaking the protocol by hand: hello with a chosen version range, then requests. */
export class RawClient {
  /** Every event the daemon sent this client, in order. */
  readonly events: ConnectionEvent[] = [];
  private readonly pending = new Map<number, (message: DaemonMessage) => void>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly welcome: Welcome,
  ) {}

  static connect(
    socketPath: string,
    name: string,
    versions: { min: number; max: number } = SUPPORTED_VERSIONS,
  ): Promise<RawClient> {
    const socket = connectSocket(socketPath);
    return new Promise((resolve, reject) => {
      let client: RawClient | undefined;
      const timer = setTimeout(() => reject(new Error('no welcome in 5 s')), 5_000);
      const decoder = new ControlStreamDecoder({
        onMessage: (message) => {
          if (message.type === 'welcome') {
            clearTimeout(timer);
            client = new RawClient(socket, message);
            resolve(client);
          } else if (message.type === 'refused') {
            clearTimeout(timer);
            reject(new Error(`refused: ${message.code}`));
          } else if (message.type === 'event') {
            client?.events.push(message.event);
          } else if ('requestId' in message) {
            client?.pending.get(message.requestId)?.(message as DaemonMessage);
            client?.pending.delete(message.requestId);
          }
        },
        onDoorbell: () => {},
      });
      socket.on('data', (chunk) => decoder.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => {
        if (client) client.closed = true;
      });
      socket.on('connect', () =>
        socket.write(
          encodeControlFrame({
            type: 'hello',
            minVersion: versions.min,
            maxVersion: versions.max,
            clientPid: process.pid,
            clientName: name,
          }),
        ),
      );
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one request; resolves with its answer, rejects after `timeoutMs`. */
  request(request: Outgoing, timeoutMs = 10_000): Promise<DaemonMessage> {
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`no answer to ${request.type} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(requestId, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      this.socket.write(encodeControlFrame({ ...request, requestId } as ClientRequest));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Waits for `condition`, checking every 20 ms; fails after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
