// One attack on the daemon, run in its own process: `tsx attacker.ts <case> <seed> <scale>` with the daemon's
// socket and endpoint in the environment. Each case is a bug once found (issue 15) or a seeded fuzzer; it checks
// the answers it gets are the typed ones it should get, prints one JSON line, and exits non-zero on a wrong answer.
import { connect, type Socket } from 'node:net';
import {
  type ClientRequest,
  ControlStreamDecoder,
  type DaemonMessage,
  encodeControlFrame,
  SUPPORTED_VERSIONS,
} from '@wsproxy/protocol';
import { WebSocket } from 'ws';
import { seeded } from './random.js';

const socketPath = process.env.ABUSE_SOCKET!;
const endpoint = process.env.ABUSE_ENDPOINT!;
const mockUrl = process.env.ABUSE_MOCK_URL!;
const [name = '', seedText = '1', scaleText = '1'] = process.argv.slice(2);
const random = seeded(Number(seedText));
/** 1 for the full suite, smaller for the CI variant: counts are multiplied by it. */
const scale = Number(scaleText);
const problems: string[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectThat(ok: boolean, what: string): void {
  if (!ok && problems.length < 20) problems.push(what);
}

/** A control connection: raw socket, decoded answers, optional hello. */
class Control {
  readonly got: DaemonMessage[] = [];
  closed = false;
  private nextId = 1;
  private readonly waiters = new Map<number, (m: DaemonMessage) => void>();

  constructor(readonly socket: Socket) {
    const decoder = new ControlStreamDecoder({
      onMessage: (m) => {
        const message = m as DaemonMessage;
        this.got.push(message);
        if ('requestId' in message) this.waiters.get(message.requestId)?.(message);
      },
      onDoorbell: () => {},
    });
    socket.on('data', (chunk) => {
      try {
        decoder.push(chunk);
      } catch {
        // A truncated stream at close: what was whole is in `got`.
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiters.values())
        waiter({ type: 'error', requestId: 0, code: 'CLOSED', message: '' });
    });
  }

  static open(): Promise<Control> {
    const socket = connect(socketPath);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve(new Control(socket)));
      socket.once('error', () => resolve(new Control(socket)));
    });
  }

  async hello(name: string): Promise<DaemonMessage | undefined> {
    this.socket.write(
      encodeControlFrame({
        type: 'hello',
        minVersion: SUPPORTED_VERSIONS.min,
        maxVersion: SUPPORTED_VERSIONS.max,
        clientPid: process.pid,
        clientName: name,
      }),
    );
    const answer = () => this.got.find((m) => m.type === 'welcome' || m.type === 'refused');
    for (let i = 0; i < 100 && !this.closed && !answer(); i++) await sleep(20);
    // A refusal comes just before the close: look once more after it.
    return answer();
  }

  request(
    request: Record<string, unknown> & { type: ClientRequest['type'] },
    timeoutMs = 5_000,
  ): Promise<DaemonMessage> {
    const requestId = this.nextId++;
    if (this.closed) return Promise.resolve({ type: 'error', requestId, code: 'CLOSED', message: '' });
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => resolve({ type: 'error', requestId, code: 'NO_ANSWER', message: '' }),
        timeoutMs,
      );
      this.waiters.set(requestId, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      if (!this.closed) this.socket.write(encodeControlFrame({ ...request, requestId } as ClientRequest));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

const codeOf = (m: DaemonMessage | undefined) => (m && 'code' in m ? m.code : m?.type);

/** An endpoint WebSocket speaking Alpaca's JSON protocol. */
function endpointClient(path: string): Promise<{ ws: WebSocket; messages: unknown[]; status: number }> {
  const ws = new WebSocket(`${endpoint}${path}`);
  const messages: unknown[] = [];
  return new Promise((resolve) => {
    ws.on('message', (data) => {
      try {
        messages.push(...(JSON.parse(data.toString()) as unknown[]));
      } catch {
        messages.push(data.toString());
      }
    });
    ws.once('open', () => resolve({ ws, messages, status: 101 }));
    ws.once('unexpected-response', (_req, res) => resolve({ ws, messages, status: res.statusCode ?? 0 }));
    ws.once('error', () => resolve({ ws, messages, status: 0 }));
  });
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

const cases: Record<string, () => Promise<Record<string, unknown>>> = {
  /** Item 1: long values in error messages. */
  async 'long-errors'() {
    const c = await Control.open();
    expectThat((await c.hello('long-errors'))?.type === 'welcome', 'hello');
    const open = (fields: Record<string, unknown>) =>
      c.request({
        type: 'open',
        url: `${mockUrl}/v2/iex`,
        adapter: '',
        headers: [],
        credentials: null,
        ...fields,
      });
    let answers = 0;
    for (let round = 0; round < 5 * scale; round++) {
      const long = 'a'.repeat(4000 + random.int(4000));
      const replies = await Promise.all([
        open({ url: `ws://127.0.0.1:1/${long}` }),
        open({ adapter: long.slice(0, 4000) }),
        open({ adapter: 'other', adapterModule: `/${long.slice(0, 3999)}` }),
        open({ url: `${mockUrl}/${long}`, headers: [['Authorization', 'Bearer x']] }),
      ]);
      for (const reply of replies) {
        answers++;
        expectThat(
          reply.type === 'error' && reply.code.startsWith('WSP_ERR_'),
          `typed error, got ${codeOf(reply)}`,
        );
      }
    }
    c.close();
    return { answers };
  },

  /** Item 2: long endpoint paths and a status report too big for the wire. */
  async 'status-bomb'() {
    const longPaths = await Promise.all(
      Array.from({ length: 100 * scale }, () => endpointClient(`/v2/iex${'/'.repeat(15_000)}`)),
    );
    expectThat(
      longPaths.every((c) => c.status === 414),
      `long paths answered 414 (got ${[...new Set(longPaths.map((c) => c.status))]})`,
    );
    const held = await Promise.all(
      Array.from({ length: 300 * scale }, () => endpointClient(`/v2/iex${'/'.repeat(900)}`)),
    );
    const c = await Control.open();
    await c.hello('status-bomb');
    const report = await c.request({ type: 'status' });
    expectThat(report.type === 'statusReport', `status answered (got ${codeOf(report)})`);
    for (const h of [...longPaths, ...held]) h.ws.terminate();
    c.close();
    return { held: held.filter((h) => h.status === 101).length };
  },

  /** Item 3: thousands of subscribed JSON endpoint clients connect, receive, and vanish at once. */
  async 'endpoint-load'() {
    const count = Math.round(2000 * scale);
    const clients: Awaited<ReturnType<typeof endpointClient>>[] = [];
    for (let i = 0; i < count; i += 200) {
      clients.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(200, count - i) }, () => endpointClient('/v2/iex')),
        )),
      );
    }
    const open = clients.filter((c) => c.status === 101);
    for (const c of open) {
      c.ws.on('message', (data) => {
        for (const m of JSON.parse(data.toString()) as { T: string; msg?: string }[]) {
          if (m.T === 'success' && m.msg === 'connected') {
            c.ws.send(JSON.stringify({ action: 'auth', key: 'mock-key', secret: 'mock-secret' }));
          } else if (m.T === 'success' && m.msg === 'authenticated') {
            c.ws.send(
              JSON.stringify({
                action: 'subscribe',
                trades: ['AAPL', 'MSFT', 'GOOG'],
                quotes: ['AAPL', 'GOOG'],
              }),
            );
          }
        }
      });
      // The greeting may have come before the listener above.
      if (c.messages.length > 0)
        c.ws.send(JSON.stringify({ action: 'auth', key: 'mock-key', secret: 'mock-secret' }));
    }
    const subscribed = () =>
      open.filter((c) => c.messages.some((m) => (m as { T?: string }).T === 'subscription')).length;
    await until(() => subscribed() === open.length, 20_000);
    const acked = subscribed();
    await sleep(3_000 * Math.min(1, scale * 2));
    const data = open.reduce(
      (n, c) => n + c.messages.filter((m) => ['t', 'q'].includes((m as { T?: string }).T ?? '')).length,
      0,
    );
    // Vanish all at once, without a close handshake.
    for (const c of clients) c.ws.terminate();
    expectThat(open.length === count, `all ${count} connected (got ${open.length})`);
    expectThat(acked === open.length, `all subscribed (got ${acked} of ${open.length})`);
    return { connected: open.length, subscribed: acked, dataMessages: data };
  },

  /** Item 4: answers nobody reads, connections that never say hello, 64 MiB frames before hello. */
  async 'control-flood'() {
    const readers = await Promise.all(Array.from({ length: 4 }, () => Control.open()));
    for (const r of readers) {
      await r.hello('never-reads');
      r.socket.pause();
      const frame = encodeControlFrame({ type: 'status', requestId: 1 });
      for (let i = 0; i < 20_000 * scale; i++) r.socket.write(frame);
    }
    const silent = await Promise.all(Array.from({ length: 80 }, () => Control.open()));
    const big = await Promise.all(Array.from({ length: 8 }, () => Control.open()));
    const header = Buffer.alloc(5);
    header[0] = 0x57;
    header.writeUInt32LE(64 * 1024 * 1024, 1);
    for (const b of big) {
      b.socket.write(header);
      b.socket.write(Buffer.alloc(1024 * 1024));
    }
    expectThat(await until(() => big.every((b) => b.closed), 5_000), 'pre-hello 64 MiB frames cut off');
    expectThat(
      await until(() => silent.every((s) => s.closed), 5_000),
      'silent connections closed by the hello timeout',
    );
    expectThat(
      silent.some((s) => s.got.some((m) => codeOf(m) === 'WSP_ERR_TOO_MANY_CONNECTIONS')),
      'pre-hello connections over the bound refused',
    );
    // Readers that never read are dropped by the daemon (queue bound, or 10 s without reading).
    const watcher = await Control.open();
    await watcher.hello('watcher');
    const stillThere = async () => {
      const report = await watcher.request({ type: 'status' });
      const clients = report.type === 'statusReport' ? report.status.clients : [];
      return clients.filter((c) => c.name === 'never-reads').length;
    };
    let left = await stillThere();
    const deadline = Date.now() + 20_000;
    while (left > 0 && Date.now() < deadline) {
      await sleep(250);
      left = await stillThere();
    }
    expectThat(left === 0, `readers that never read cut off (${left} left)`);
    watcher.close();
    for (const r of readers) r.close();
    return { cut: readers.length - left };
  },

  /** Item 5: connections dribbling their upgrade request one byte at a time. */
  async slowloris() {
    const url = new URL(endpoint);
    const sockets: Socket[] = [];
    for (let i = 0; i < 400 * scale; i++) {
      const s = connect(Number(url.port), url.hostname);
      s.on('error', () => {});
      sockets.push(s);
    }
    const timer = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('X');
    }, 1_000);
    const closed = () => sockets.filter((s) => s.destroyed || s.closed).length;
    for (const s of sockets) s.once('connect', () => s.write('GET /v2/iex HTTP/1.1\r\nHost: x\r\nX-Slow: '));
    const cut = await until(() => closed() === sockets.length, 10_000);
    clearInterval(timer);
    expectThat(cut, `slowloris connections cut by the handshake timeout (${closed()} of ${sockets.length})`);
    for (const s of sockets) s.destroy();
    return { cut: closed() };
  },

  /** Item 6: endpoint auths with a refused key, and with invented ones. */
  async 'dial-storm'() {
    const auth = async (key: string): Promise<unknown> => {
      const c = await endpointClient('/v2/iex');
      if (c.status !== 101) return c.status;
      await until(() => c.messages.length > 0, 5_000);
      c.ws.send(JSON.stringify({ action: 'auth', key, secret: 'wrong' }));
      await until(() => c.messages.length > 1, 10_000);
      c.ws.terminate();
      return (c.messages[1] as { code?: number } | undefined)?.code;
    };
    const answers: unknown[] = [];
    for (let i = 0; i < 10 * scale; i++)
      answers.push(...(await Promise.all(Array.from({ length: 20 }, () => auth('bogus')))));
    answers.push(
      ...(await Promise.all(Array.from({ length: 100 * scale }, () => auth(`invented-${random.int(1e9)}`)))),
    );
    expectThat(
      answers.every((a) => a === 402 || a === 406),
      `refused with 402 or 406 (got ${[...new Set(answers)]})`,
    );
    return { attempts: answers.length, local406: answers.filter((a) => a === 406).length };
  },

  /** Item 7: a same-user process without the owner's header secret tries to join its passthrough session. */
  async 'header-secrets'() {
    const owner = await Control.open();
    await owner.hello('owner');
    const url = `${mockUrl}/v2/iex`;
    const opened = await owner.request({
      type: 'open',
      url,
      adapter: '',
      headers: [['X-Auth-Token', `secret-${random.int(1e9)}`]],
      credentials: null,
    });
    expectThat(opened.type === 'opened', `owner opened (got ${codeOf(opened)})`);
    const intruder = await Control.open();
    await intruder.hello('intruder');
    for (const headers of [[], [['X-Auth-Token', 'guess']], [['Api-Key', 'guess']]]) {
      const answer = await intruder.request({ type: 'open', url, adapter: '', headers, credentials: null });
      expectThat(
        codeOf(answer) === 'WSP_ERR_CREDENTIALS_MISMATCH',
        `intruder refused (got ${codeOf(answer)})`,
      );
    }
    owner.close();
    intruder.close();
    return {};
  },

  /** Item 8: clients that say hello and hold every reader slot without opening anything. */
  async 'idle-slots'() {
    const holders: Control[] = [];
    const answers: (DaemonMessage | undefined)[] = [];
    // In batches under the pre-hello bound, so that the slot bound is the one hit.
    for (let i = 0; i < 70; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => Control.open()));
      holders.push(...batch);
      answers.push(...(await Promise.all(batch.map((h, j) => h.hello(`idle-${i + j}`)))));
    }
    const refused = answers.filter((a) => codeOf(a) === 'WSP_ERR_TOO_MANY_CLIENTS').length;
    expectThat(refused > 0, 'hellos over the slot count refused');
    await sleep(1_000);
    for (const h of holders) h.close();
    return { welcomed: answers.filter((a) => a?.type === 'welcome').length, refused };
  },

  /** Seeded fuzzer on the control socket: random bytes, random frames, random requests with random fields. */
  async 'fuzz-control'() {
    const deadline = Date.now() + 12_000 * scale;
    let connections = 0;
    while (Date.now() < deadline) {
      const c = await Control.open();
      connections++;
      const mode = random.int(4);
      if (mode === 0) c.socket.write(random.bytes(1 + random.int(4096)));
      else if (mode === 1) {
        const header = Buffer.alloc(5);
        header[0] = 0x57;
        header.writeUInt32LE(random.int(0xffffffff), 1);
        c.socket.write(Buffer.concat([header, random.bytes(random.int(2048))]));
      } else {
        if (mode === 3) await c.hello('x'.repeat(random.int(4096)));
        const text = (n: number) => random.bytes(n).toString('latin1');
        const requests: (Record<string, unknown> & { type: ClientRequest['type'] })[] = [
          {
            type: 'open',
            url: random.pick([`ws://127.0.0.1:1/${text(random.int(8000))}`, text(50), `${mockUrl}/v2/iex`]),
            adapter: random.pick(['', 'alpaca', text(200)]),
            headers: [],
            credentials: null,
          },
          { type: 'subscribe', connectionId: 1 + random.int(5), params: random.bytes(random.int(100)) },
          {
            type: 'send',
            connectionId: 1 + random.int(5),
            binary: random.next() < 0.5,
            payload: random.bytes(random.int(1000)),
          },
          { type: 'close', connectionId: random.pick(['all', 1 + random.int(5)]) },
          { type: 'status' },
        ];
        for (let i = 0; i < 1 + random.int(6); i++) {
          try {
            await c.request(random.pick(requests), 2_000);
          } catch {
            // An encode our side refused: that is the client's codec doing its job, not the daemon's answer.
          }
        }
      }
      await sleep(random.int(30));
      c.close();
    }
    return { connections };
  },

  /** Seeded fuzzer on the endpoint: random paths, headers and messages, random disconnects. */
  async 'fuzz-endpoint'() {
    const deadline = Date.now() + 12_000 * scale;
    let connections = 0;
    while (Date.now() < deadline) {
      const path = random.pick([
        '/v2/iex',
        '/v2/sip',
        '/stream',
        '/nope',
        `/v2/iex?${'x'.repeat(random.int(3000))}`,
        '/%E0%A4%A',
      ]);
      const c = await endpointClient(path);
      connections++;
      if (c.status === 101) {
        for (let i = 0; i < random.int(8); i++) {
          const message = random.pick([
            () => random.bytes(random.int(512)),
            () =>
              JSON.stringify({
                action: random.pick(['auth', 'subscribe', 'listen', 'x']),
                key: 'k',
                trades: ['AAPL'],
              }),
            () =>
              JSON.stringify([
                { action: 'subscribe', bars: Array.from({ length: random.int(300) }, (_, j) => `S${j}`) },
              ]),
            () => '['.repeat(random.int(5000)),
          ])();
          c.ws.send(message, { binary: typeof message !== 'string' });
        }
      }
      await sleep(random.int(20));
      if (random.next() < 0.5) c.ws.terminate();
      else c.ws.close();
    }
    return { connections };
  },
};

const run = cases[name];
if (!run) {
  console.error(`unknown case ${name}; known: ${Object.keys(cases).join(', ')}`);
  process.exit(2);
}
const started = Date.now();
const result = await run();
process.stdout.write(`${JSON.stringify({ case: name, ms: Date.now() - started, ...result, problems })}\n`);
process.exit(problems.length === 0 ? 0 : 1);
