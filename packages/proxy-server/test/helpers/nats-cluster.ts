// A real NATS cluster for the cluster suites: three `nats-server` processes (the Debian package) with JetStream,
// routed to each other on loopback ports, each with its own store in a temp dir. Torn down by pid, dir removed.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export const NATS_SERVER = process.env.NATS_SERVER ?? 'nats-server';

/** Whether the nats-server binary is installed (the suites skip with a reason when it is not). */
export function natsServerAvailable(): boolean {
  return spawnSync(NATS_SERVER, ['--version']).status === 0;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface NatsNode {
  readonly name: string;
  readonly url: string;
  child: ChildProcess;
  /** kill -9 this server (a host or its NATS dying). */
  kill(): Promise<void>;
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** Every client URL, comma-separated, as `--cluster` takes them. */
  readonly urls: string;
  /** Starts a killed server again (same ports, same store) and waits until the cluster is whole. */
  restart(index: number): Promise<void>;
  /** Resolves once JetStream has a meta leader and accepts a replicated stream. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function spawnServer(name: string, config: string): ChildProcess {
  const child = spawn(NATS_SERVER, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`nats-server ${name} exited ${code}:\n${log}\n`);
  });
  return child;
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'wsproxy-nats-'));
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  for (let i = 0; i < size; i++) {
    clientPorts.push(await freePort());
    routePorts.push(await freePort());
  }
  const nodes: NatsNode[] = [];
  const configs: string[] = [];
  for (let i = 0; i < size; i++) {
    const name = `n${i + 1}`;
    const routes = routePorts.filter((_, j) => j !== i).map((port) => `nats-route://127.0.0.1:${port}`);
    const config = join(dir, `${name}.conf`);
    writeFileSync(
      config,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${clientPorts[i]}`,
        `jetstream { store_dir: "${join(dir, name)}" }`,
        `cluster { name: wsproxy-test, listen: 127.0.0.1:${routePorts[i]}, routes: [${routes.join(', ')}] }`,
      ].join('\n'),
    );
    const node: NatsNode = {
      name,
      url: `nats://127.0.0.1:${clientPorts[i]}`,
      child: spawnServer(name, config),
      async kill() {
        if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
        await exited(node.child);
      },
    };
    configs.push(config);
    nodes.push(node);
  }
  const urls = nodes.map((node) => node.url).join(',');

  const cluster: NatsCluster = {
    nodes,
    urls,
    async restart(index: number) {
      const node = nodes[index]!;
      await node.kill();
      node.child = spawnServer(node.name, configs[index]!);
      await cluster.ready();
    },
    async ready() {
      const deadline = Date.now() + 20_000;
      let nc: NatsConnection | undefined;
      let lastError: unknown;
      try {
        while (Date.now() < deadline) {
          try {
            nc ??= await connect({ servers: urls.split(','), timeout: 1000 });
            const probe = await new Kvm(nc).create('ready_probe', { replicas: size, timeout: 1000 });
            await probe.destroy();
            return;
          } catch (error) {
            lastError = error;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
        throw new Error(`NATS cluster not ready in 20 s: ${String(lastError)}`);
      } finally {
        await nc?.close();
      }
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
