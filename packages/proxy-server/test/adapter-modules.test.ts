// Adapters loaded on demand: a daemon started WITHOUT --adapter (as a plain client or `wsproxy start` would) loads
// the module an open names (protocol version 2, `adapterModule`), once, for every concurrent opener; a module that
// cannot be used is a typed error for its requester only. Real daemon process, real Unix socket, real upstream.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROTOCOL_VERSION } from '@wsproxy/protocol';
import { fetchStatus } from '@wsproxy/proxy-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type DaemonProcess, RawClient, startDaemon, until } from './helpers/processes.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const tagModule = join(fixtures, 'tag-adapter.mjs');

let dir: string;
let daemon: DaemonProcess;
let upstream: WebSocketServer;
let upstreamUrl: string;
/** Every text message the upstream received, in order. */
const received: string[] = [];
const clients: RawClient[] = [];

async function client(name: string, versions?: { min: number; max: number }): Promise<RawClient> {
  const c = await RawClient.connect(daemon.info.socket, name, versions);
  clients.push(c);
  return c;
}

function openRequest(adapter: string, adapterModule?: string) {
  return {
    type: 'open' as const,
    url: upstreamUrl,
    adapter,
    headers: [],
    credentials: null,
    ...(adapterModule === undefined ? {} : { adapterModule }),
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsp-adapter-modules-'));
  upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => upstream.once('listening', resolve));
  upstreamUrl = `ws://127.0.0.1:${(upstream.address() as { port: number }).port}/feed`;
  upstream.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      received.push(data.toString());
      ws.send(data, { binary: isBinary });
    });
  });
  daemon = await startDaemon(['--runtime-dir', dir, '--namespace', 'modules', '--log-level', 'warn'], {
    WSP_TEST_LOAD_LOG: join(dir, 'loads.log'),
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await daemon?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('adapter modules named by an open', { timeout: 30_000 }, () => {
  it('without the module, an unknown adapter is WSP_ERR_UNKNOWN_ADAPTER with a hint', async () => {
    const c = await client('no-module');
    expect(c.welcome.version).toBe(PROTOCOL_VERSION);
    const answer = await c.request(openRequest('tag'));
    expect(answer).toMatchObject({ type: 'error', code: 'WSP_ERR_UNKNOWN_ADAPTER' });
    expect(answer.type === 'error' && answer.message).toContain('adapterModule');
  });

  it('loads it once for three concurrent opens, which share one upstream', async () => {
    const openers = await Promise.all(['a', 'b', 'c'].map((name) => client(`opener-${name}`)));
    const answers = await Promise.all(openers.map((c) => c.request(openRequest('tag', tagModule))));
    for (const answer of answers) expect(answer.type).toBe('opened');
    const opened = answers.flatMap((a) => (a.type === 'opened' ? [a] : []));
    expect(new Set(opened.map((a) => a.connectionId)).size).toBe(1);
    expect(opened.filter((a) => a.isNew)).toHaveLength(1);
    // The adapter instance runs: it greeted the upstream, once.
    await until(() => received.includes('tag adapter here'), 'the adapter greeting');
    expect(received.filter((m) => m === 'tag adapter here')).toHaveLength(1);

    // A later open naming the same module, and one naming none, find it loaded: no second import.
    const late = await client('late');
    expect(await late.request(openRequest('tag', tagModule))).toMatchObject({ type: 'opened', isNew: false });
    expect(await late.request(openRequest('tag'))).toMatchObject({ type: 'opened', isNew: false });
    expect(readFileSync(join(dir, 'loads.log'), 'utf8')).toBe('tag-adapter loaded\n');

    const status = await fetchStatus(daemon.info.socket);
    // The version is that of the package holding the module: here this package's own fixtures.
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
    expect(status.adapters).toEqual([
      { name: 'passthrough', module: '' },
      { name: 'tag', module: tagModule, version },
    ]);
    expect(status.upstreams.map((u) => u.adapter)).toEqual(['tag']);
  });

  it('a module that cannot be used: a typed error for the requester only, everyone else unaffected', async () => {
    const bystander = await client('bystander');
    const own = await bystander.request(openRequest(''));
    expect(own.type).toBe('opened');
    const connectionId = own.type === 'opened' ? own.connectionId : 0;

    const cases: Array<{ adapter: string; module: string; reason: RegExp }> = [
      { adapter: 'broken', module: join(fixtures, 'throws-adapter.mjs'), reason: /broken on purpose/ },
      { adapter: 'broken', module: join(fixtures, 'no-factory.mjs'), reason: /exports no adapter factory/ },
      {
        adapter: 'broken',
        module: join(fixtures, 'other-name.mjs'),
        reason: /no adapter named "broken".*"other"/,
      },
      { adapter: 'broken', module: join(fixtures, 'missing.mjs'), reason: /no file at that path/ },
      { adapter: 'broken', module: fixtures, reason: /no file at that path/ },
      {
        adapter: 'broken',
        module: './test/fixtures/tag-adapter.mjs',
        reason: /absolute path .* or a package/,
      },
      { adapter: 'broken', module: pathToFileURL(tagModule).href, reason: /absolute path .* or a package/ },
      { adapter: 'broken', module: 'node:fs', reason: /absolute path .* or a package/ },
      { adapter: 'broken', module: 'child_process', reason: /absolute path .* or a package/ },
      { adapter: 'broken', module: '@wsproxy/no-such-package/daemon', reason: /importing it failed/ },
      { adapter: 'broken', module: `/${tagModule}`, reason: /network path/ },
      { adapter: 'broken', module: '\\\\host\\share\\adapter.mjs', reason: /network path/ },
      { adapter: '', module: tagModule, reason: /name the adapter to open/ },
    ];
    for (const { adapter, module, reason } of cases) {
      const requester = await client(`requester-${adapter}`);
      const answer = await requester.request(openRequest(adapter, module));
      expect(answer, module).toMatchObject({ type: 'error', code: 'WSP_ERR_ADAPTER_LOAD_FAILED' });
      expect(answer.type === 'error' && answer.message, module).toMatch(reason);
      // Only the request failed: the requester's connection to the daemon stays usable.
      expect((await requester.request({ type: 'status' })).type).toBe('statusReport');
    }
    // A broken module fails the same way again (it is retried, and does not take the daemon down).
    const again = await (await client('again')).request(
      openRequest('broken', join(fixtures, 'throws-adapter.mjs')),
    );
    expect(again).toMatchObject({ type: 'error', code: 'WSP_ERR_ADAPTER_LOAD_FAILED' });

    // The bystander's connection still works both ways.
    expect(
      await bystander.request({
        type: 'send',
        connectionId,
        binary: false,
        payload: Buffer.from('still here'),
      }),
    ).toMatchObject({ type: 'ok' });
    await until(() => received.includes('still here'), 'the bystander frame upstream');
    const status = await fetchStatus(daemon.info.socket);
    expect(status.daemon.pid).toBe(daemon.info.pid);
    expect(status.clients.find((c) => c.name === 'bystander')?.connections).toEqual([connectionId]);
    // `other-name.mjs` was loaded for "broken": its "other" was not asked for, so it is not registered either.
    expect(status.adapters?.map((a) => a.name)).toEqual(['passthrough', 'tag']);
    expect(bystander.isClosed).toBe(false);
  });

  it('a module that never finishes loading is a typed error after the load timeout, not a hang', async () => {
    const waiting = await client('waiting');
    const started = Date.now();
    const answer = await waiting.request(openRequest('hangs', join(fixtures, 'hangs-adapter.mjs')), 20_000);
    expect(answer).toMatchObject({ type: 'error', code: 'WSP_ERR_ADAPTER_LOAD_FAILED' });
    expect((answer as { message: string }).message).toMatch(/did not finish loading within 10 s/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
    // Meanwhile and after, the daemon answers everyone.
    expect((await fetchStatus(daemon.info.socket)).daemon.pid).toBe(daemon.info.pid);
    expect(waiting.isClosed).toBe(false);
  });

  it('two builds of one adapter never mix: another version is refused naming both; another copy of the same is fine', async () => {
    // Two projects, each with its own install of the "versioned" adapter package, v1.0.0 and v2.0.0, and a third
    // project with another copy of v1.0.0.
    const install = (project: string, version: string) => {
      const root = join(dir, project, 'node_modules', 'versioned-adapter');
      mkdirSync(root, { recursive: true });
      writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'versioned-adapter', version }));
      writeFileSync(
        join(root, 'daemon.mjs'),
        `export default { name: 'versioned', create: (c) => ({ onUpstreamFrame: (f) => c.deliver('all', f.data, f.isBinary) }) };\n`,
      );
      return join(root, 'daemon.mjs');
    };
    const v1 = install('project-a', '1.0.0');
    const v2 = install('project-b', '2.0.0');
    const v1Copy = install('project-c', '1.0.0');
    const first = await client('project-a');
    expect((await first.request(openRequest('versioned', v1))).type).toBe('opened');

    const second = await client('project-b');
    const refused = await second.request(openRequest('versioned', v2));
    expect(refused).toMatchObject({ type: 'error', code: 'WSP_ERR_ADAPTER_MISMATCH' });
    const message = refused.type === 'error' ? refused.message : '';
    expect(message).toContain(`1.0.0 (${realpathSync(v1)})`);
    expect(message).toContain(`2.0.0 (${realpathSync(v2)})`);

    // The same release from another install is the same code: accepted, and it shares the running adapter.
    const third = await client('project-c');
    expect((await third.request(openRequest('versioned', v1Copy))).type).toBe('opened');
    const status = await fetchStatus(daemon.info.socket);
    expect(status.adapters?.find((a) => a.name === 'versioned')).toEqual({
      name: 'versioned',
      module: v1,
      version: '1.0.0',
    });
  });

  it('a client that negotiated version 1 cannot send the version-2 open', async () => {
    const old = await client('old', { min: 1, max: 1 });
    expect(old.welcome.version).toBe(1);
    expect(await old.request(openRequest('tag', tagModule))).toMatchObject({
      type: 'error',
      code: 'WSP_ERR_NOT_SUPPORTED',
    });
    // ... and its plain version-1 open works as before.
    expect(await old.request(openRequest('tag'))).toMatchObject({ type: 'opened' });
  });
});
