// Official-SDK snippets (docs/drop-in-endpoint.md): every ws:// URL they name is served by a real daemon's drop-in
// endpoint (`wsproxy start --adapter @wsproxy/alpaca-adapter/daemon --listen ...`, upstream = the mock): a plain
// `ws` client gets `connected`, authenticates with the mock keys and gets `authenticated`, as the SDK would.
// The Python snippet must also parse (no alpaca-py here: PyPI is out of reach).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import {
  type EndpointDaemon,
  onPort,
  proveServed,
  selfSignedCertificate,
  startDaemon,
  urlsIn,
} from '../src/endpoint.js';
import { allBlocks, repoRoot, where } from '../src/extract.js';
import { assertNoFailures, type Row, table } from '../src/report.js';
import { World } from '../src/world.js';

const DOC = 'docs/drop-in-endpoint.md';
const blocks = allBlocks().filter((b) => b.annotation?.kind === 'endpoint-urls');

// One world (mock + runtime folder) per daemon: two daemons on one mock would be two Alpaca connections for one key,
// which the mock answers with 406 exactly as Alpaca does.
let plainWorld: World;
let tlsWorld: World;
let plain: EndpointDaemon;
let tls: EndpointDaemon;
let ca: string;
const held: WebSocket[] = [];

beforeAll(async () => {
  [plainWorld, tlsWorld] = await Promise.all([World.create(), World.create()]);
  ca = selfSignedCertificate(tlsWorld.workDir).cert;
  const start = [
    'start',
    '--adapter',
    '@wsproxy/alpaca-adapter/daemon',
    '--listen',
    '127.0.0.1:8765',
    '--linger',
    '60000',
  ];
  [plain, tls] = await Promise.all([
    startDaemon(plainWorld, start),
    startDaemon(tlsWorld, [...start, '--tls-cert', 'cert.pem', '--tls-key', 'key.pem']),
  ]);
});

afterAll(async () => {
  for (const ws of held) ws.close();
  const problems = [
    ...(plainWorld ? await plainWorld.close() : []),
    ...(tlsWorld ? await tlsWorld.close() : []),
  ];
  expect(problems).toEqual([]);
});

/** The URL on the daemon that serves its scheme, with the docs' port replaced by the daemon's. */
function served(url: string, append = ''): { url: string; ca?: string } {
  const daemon = url.startsWith('wss:') ? tls : plain;
  const real = `${onPort(url, daemon.port).replace(/\/$/, '')}${append}`;
  return url.startsWith('wss:') ? { url: real, ca } : { url: real };
}

describe('official-SDK snippets', () => {
  it('there are SDK snippets', () => expect(blocks.length).toBeGreaterThan(0));
  for (const block of blocks) {
    it(where(block), async () => {
      const rows: Row[] = [];
      const options = block.annotation!.options;
      if (options.parse?.[0] === 'python') {
        const r = spawnSync('python3', ['-c', 'import ast,sys; ast.parse(sys.stdin.read())'], {
          input: block.code,
          encoding: 'utf8',
        });
        rows.push({
          where: where(block),
          kind: 'python',
          status: r.status === 0 ? 'ok' : 'FAIL',
          detail: r.status === 0 ? 'ast.parse: valid Python' : r.stderr,
        });
      }
      const urls = urlsIn(block.code);
      expect(urls.length, `${where(block)} names no ws:// URL`).toBeGreaterThan(0);
      for (const url of urls) {
        const target = served(url, options.append?.[0] ?? '');
        try {
          const result = await proveServed(target.url, {
            ...(target.ca ? { ca: target.ca } : {}),
            hold: held,
          });
          rows.push({
            where: where(block),
            kind: 'endpoint',
            status: 'ok',
            detail: `${url}${options.append?.[0] ?? ''}: ${result}`,
          });
        } catch (error) {
          rows.push({
            where: where(block),
            kind: 'endpoint',
            status: 'FAIL',
            detail: (error as Error).message,
          });
        }
      }
      console.log(table(rows));
      assertNoFailures(rows);
    });
  }

  it(`every loopback stream URL in the prose of ${DOC} is served (v4 JS, C#)`, async () => {
    const text = readFileSync(join(repoRoot, DOC), 'utf8').replace(/```[\s\S]*?```/g, '');
    const urls = urlsIn(text).filter(
      (u) => new URL(u).hostname === '127.0.0.1' && new URL(u).pathname.length > 1,
    );
    expect(urls.length).toBeGreaterThan(0);
    const rows: Row[] = [];
    for (const url of urls) {
      // A base ending in /v2 is one the SDK appends the feed to ("give the base ws://127.0.0.1:8765/v2").
      const append = new URL(url).pathname === '/v2' ? '/iex' : '';
      try {
        const target = served(url, append);
        rows.push({
          where: DOC,
          kind: 'prose',
          status: 'ok',
          detail: `${url}${append}: ${await proveServed(target.url, { hold: held })}`,
        });
      } catch (error) {
        rows.push({ where: DOC, kind: 'prose', status: 'FAIL', detail: (error as Error).message });
      }
    }
    console.log(table(rows));
    assertNoFailures(rows);
  });

  it(`every market-data path in the table of ${DOC} is served`, async () => {
    const lines = readFileSync(join(repoRoot, DOC), 'utf8')
      .split('\n')
      .filter((l) => /^\| `\//.test(l));
    const paths: string[] = [];
    for (const line of lines) {
      let last = '';
      for (const m of line.split('|')[1]!.matchAll(/`([^`]+)`/g)) {
        // `/v1beta3/crypto/us` (`us-1`, `eu-1`): a bare name replaces the last segment of the path before it.
        last = m[1]!.startsWith('/') ? m[1]! : last.replace(/[^/]+$/, m[1]!);
        paths.push(last);
      }
    }
    expect(paths.length).toBeGreaterThan(20);
    const rows: Row[] = [];
    for (const path of paths) {
      try {
        rows.push({
          where: DOC,
          kind: 'path',
          status: 'ok',
          detail: `${path}: ${await proveServed(`${plain.url}${path}`, { hold: held })}`,
        });
      } catch (error) {
        rows.push({ where: DOC, kind: 'path', status: 'FAIL', detail: (error as Error).message });
      }
    }
    console.log(table(rows));
    assertNoFailures(rows);
  });
});
