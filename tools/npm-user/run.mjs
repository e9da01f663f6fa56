#!/usr/bin/env node
// The npm user's path, for real: every published package under packages/ is packed as it would be published
// (`pnpm pack`, which turns `workspace:^` into versions), the tarballs are installed with plain npm into a fresh
// project outside the monorepo (`npm init -y`: a "commonjs" project, npm 11's default), and there the README's
// npm-user commands (the blocks marked `<!-- npm-user -->` in README.md) run as a user would type them, plus what
// a user does next: import every package from ESM and from CommonJS, typecheck `AlpacaStream.connect({ client })`
// with the project's own client, run shm-queue's own two-process example, a strategy against the mock, the CLI.
//
// Usage: node tools/npm-user/run.mjs   (after `pnpm build`; .ci/run runs it). Exit 0 when every check passed.
// It assumes no install script: platform packages (os/cpu/libc) that do not match this machine are left out, as
// npm would leave them out of an optionalDependencies install.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pnpmVersion = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).packageManager.split(
  '@',
)[1];
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

const work = mkdtempSync(join(tmpdir(), 'wsproxy-npm-user-'));
const tarballs = join(work, 'tarballs');
const project = join(work, 'project');
const runtimeDir = join(work, 'runtime');
mkdirSync(tarballs);
mkdirSync(project);
mkdirSync(runtimeDir, { mode: 0o700 });

const children = [];
let failures = 0;
const started = Date.now();

function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures++;
  return ok;
}

/** A command in the user's project: their environment, plus a private runtime folder for the daemon. */
function inProject(command, args, { env = {}, input } = {}) {
  const r = spawnSync(command, args, {
    cwd: project,
    encoding: 'utf8',
    input,
    timeout: 180_000,
    env: { ...process.env, WSPROXY_RUNTIME_DIR: runtimeDir, npm_config_update_notifier: 'false', ...env },
  });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', output: `${r.stdout}${r.stderr}` };
}

/** A long-running command in the project; resolves once its output matches `ready`. */
function startInProject(command, args, ready, env = {}) {
  // Its own process group: `npx` runs the command as a child, and a signal must reach both, as Ctrl-C would.
  const child = spawn(command, args, {
    cwd: project,
    env: { ...process.env, WSPROXY_RUNTIME_DIR: runtimeDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.push(child);
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const matched = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${ready} within 60 s: ${output}`)), 60_000);
    const look = (chunk) => {
      output += chunk;
      const m = ready.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ${ready}: ${output}`));
    });
  });
  // Awaited only by callers that need the match; an exit after it is not an error.
  matched.catch(() => {});
  const signal = (name) => {
    try {
      process.kill(-child.pid, name);
    } catch {
      // Already gone.
    }
  };
  return { child, matched, exited, signal, output: () => output };
}

/** The fenced blocks after `<!-- marker -->` in a markdown text, in order. */
function blocksAfter(markdown, marker) {
  const re = new RegExp(`<!-- ${marker} -->\\s*\`\`\`(\\w*)\\n([\\s\\S]*?)\`\`\``, 'g');
  return [...markdown.matchAll(re)].map((m) => m[2]);
}

/** Whether a package's os/cpu/libc fields let it install on this machine (npm's own rule). */
function fitsThisMachine(manifest) {
  const allows = (list, value) => {
    if (!list || list.length === 0) return true;
    if (list.includes(`!${value}`)) return false;
    const positives = list.filter((v) => !v.startsWith('!'));
    return positives.length === 0 || positives.includes(value);
  };
  const libc =
    process.platform === 'linux'
      ? process.report.getReport().header.glibcVersionRuntime
        ? 'glibc'
        : 'musl'
      : undefined;
  return (
    allows(manifest.os, process.platform) &&
    allows(manifest.cpu, process.arch) &&
    (!libc || allows(manifest.libc, libc))
  );
}

/** Every package.json under packages/ (platform packages may be nested), not in node_modules, not private. */
function publishedPackages() {
  const found = [];
  const walk = (dir, depth) => {
    if (existsSync(join(dir, 'package.json'))) {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (!manifest.private) found.push({ dir, manifest });
    }
    if (depth === 0) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || ['node_modules', 'dist', 'build', 'src', 'test'].includes(entry.name))
        continue;
      walk(join(dir, entry.name), depth - 1);
    }
  };
  for (const entry of readdirSync(join(repoRoot, 'packages'))) walk(join(repoRoot, 'packages', entry), 3);
  return found;
}

async function main() {
  // 1. Pack what would be published.
  const packed = [];
  for (const { dir, manifest } of publishedPackages()) {
    if (!fitsThisMachine(manifest)) {
      console.log(`skip ${manifest.name}: not for ${process.platform}-${process.arch} (os/cpu/libc)`);
      continue;
    }
    execFileSync('npx', ['--yes', `pnpm@${pnpmVersion}`, 'pack', '--pack-destination', tarballs], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    packed.push(manifest);
    console.log(`packed ${manifest.name}@${manifest.version} (${relative(repoRoot, dir)})`);
  }
  const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
  check(files.length === packed.length, `one tarball per package`, `${files.length} for ${packed.length}`);

  // 2. A fresh npm project, as `npm init -y` makes it (npm 11: "type": "commonjs").
  check(inProject('npm', ['init', '-y']).code === 0, 'npm init -y');
  const initial = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  console.log(
    `     npm ${inProject('npm', ['--version']).stdout.trim()}, project type ${initial.type ?? '(none)'}`,
  );

  // 3. Install every tarball with plain npm. No install script may be needed, and npm must not warn about one.
  const install = inProject('npm', [
    'install',
    '--no-audit',
    '--no-fund',
    ...files.map((f) => join(tarballs, f)),
  ]);
  check(install.code === 0, 'npm install <every tarball>', install.code === 0 ? '' : install.output);
  const scriptWarning = /install scripts? not yet covered|has install scripts?/i.exec(install.output);
  const withInstallScript = packed.filter(
    (m) => m.scripts?.install || m.scripts?.postinstall || m.scripts?.preinstall,
  );
  check(
    !scriptWarning && withInstallScript.length === 0,
    'no package runs an install script, npm warns about none',
    withInstallScript
      .map((m) => `${m.name}: ${m.scripts.install ?? m.scripts.postinstall ?? m.scripts.preinstall}`)
      .join('; ') || (scriptWarning ? scriptWarning[0] : ''),
  );
  const nested = inProject('npm', ['ls', '--all', '--parseable'])
    .stdout.split('\n')
    .filter((path) => /node_modules\/.+\/node_modules\/(@wsproxy\/|ws$|pino$)/.test(path));
  check(
    nested.length === 0,
    'one copy of each @wsproxy package, ws and pino (no nested copies)',
    nested.join(', '),
  );

  // 4. The README's npm-user commands, in order.
  const [installBlock, mockBlock, endpointBlock] = blocksAfter(readme, 'npm-user');
  check(Boolean(installBlock && mockBlock && endpointBlock), 'README has its three npm-user blocks');
  for (const line of installBlock.trim().split('\n')) {
    // Installing these names from the registry is what a user does; here the tarballs stand in for the registry.
    const names = line.replace(/^npm install\s+/, '').split(/\s+/);
    const missing = names.filter((n) => !existsSync(join(project, 'node_modules', n, 'package.json')));
    check(
      missing.length === 0 && names.every((n) => packed.some((m) => m.name === n)),
      line,
      missing.join(' '),
    );
  }

  // The strategy of "A strategy in 15 lines", saved as the README says (an .mjs in a commonjs project).
  const strategy = /## A strategy in 15 lines[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  check(Boolean(strategy), 'README has the 15-line strategy');
  writeFileSync(join(project, 'strategy.mjs'), strategy);

  const [mockLine, strategyLine] = mockBlock.trim().split('\n');
  const mockArgs = mockLine.split(/\s+/).slice(1);
  const portAt = mockArgs.indexOf('--port');
  if (portAt >= 0) mockArgs[portAt + 1] = '0'; // a free port, whatever else runs on this machine
  const mock = startInProject('npx', mockArgs, /listening on (ws:\/\/127\.0\.0\.1:\d+)/);
  const mockUrl = (await mock.matched)[1];
  check(true, mockLine, `mock at ${mockUrl}`);

  const env = Object.fromEntries(
    [...strategyLine.matchAll(/(\w+)=(\S+)/g)].map(([, k, v]) => [
      k,
      k === 'APCA_API_STREAM_URL' ? mockUrl : v,
    ]),
  );
  const command = strategyLine.replace(/^(\w+=\S+\s+)+/, '').split(/\s+/);
  const run = startInProject(command[0], command.slice(1), /(trade [A-Z]+ \S+ x \d+\n[\s\S]*){3}/, {
    ...env,
    WSPROXY_NAMESPACE: 'npm-user',
  });
  try {
    await run.matched;
    check(
      /^subscribed to trades of AAPL,MSFT$/m.test(run.output()),
      strategyLine,
      'subscribed, trades arrive',
    );
  } catch (error) {
    check(false, strategyLine, error.message);
  }
  const status = inProject('npx', ['wsproxy', 'status', '--json'], {
    env: { WSPROXY_NAMESPACE: 'npm-user' },
  });
  let report = {};
  try {
    report = JSON.parse(status.stdout);
  } catch {}
  check(
    report.running === true && report.clients?.length === 1 && report.upstreams?.length === 1,
    'npx wsproxy status (WSPROXY_NAMESPACE): the strategy is its one client, on one upstream',
    status.output.slice(0, 200),
  );
  run.signal('SIGINT');
  check((await run.exited) === 0, 'the strategy stops cleanly on Ctrl-C (SIGINT)');
  // Its daemon was spawned by the strategy: it leaves by itself after its linger (5 s), with nothing left behind.
  const daemonPid = report.daemon?.pid;
  let daemonGone = false;
  for (let i = 0; i < 150 && !daemonGone; i++) {
    try {
      process.kill(daemonPid, 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } catch {
      daemonGone = true;
    }
  }
  check(
    daemonGone && !existsSync(join(runtimeDir, 'npm-user.sock')),
    "the strategy's daemon lingers out by itself",
  );

  // `npx wsproxy start --listen 8765`: the drop-in endpoint, with the adapter loaded by itself. An SDK-style
  // client (ws from the project) authenticates on it and stays; `npx wsproxy stop` then ends the daemon, and the
  // client hears 1001 (going away).
  const endpointArgs = endpointBlock.trim().split(/\s+/).slice(1);
  const listenAt = endpointArgs.indexOf('--listen');
  endpointArgs[listenAt + 1] = '127.0.0.1:0';
  const endpointEnv = { WSPROXY_ALPACA_DATA_URL: mockUrl, WSPROXY_NAMESPACE: 'npm-user-endpoint' };
  const daemon = startInProject('npx', endpointArgs, /drop-in endpoint on (ws:\/\/\S+)/, endpointEnv);
  try {
    const endpoint = (await daemon.matched)[1];
    const sdk = startInProject(
      'node',
      [
        '-e',
        `const WebSocket = require('ws');
         const ws = new WebSocket(process.argv[1] + '/v2/iex');
         ws.on('message', (data) => {
           for (const m of JSON.parse(String(data))) {
             if (m.msg === 'connected') ws.send(JSON.stringify({ action: 'auth', key: 'mock-key', secret: 'mock-secret' }));
             if (m.msg === 'authenticated') console.log('authenticated');
           }
         });
         ws.on('close', (code) => console.log('closed ' + code));`,
        endpoint,
      ],
      /authenticated/,
    );
    await sdk.matched;
    check(true, endpointBlock.trim(), `${endpoint}/v2/iex authenticates (ws from the project)`);
    const stopEndpoint = inProject('npx', ['wsproxy', 'stop'], { env: endpointEnv });
    check(
      stopEndpoint.code === 0 && (await daemon.exited) === 0,
      'npx wsproxy stop: the endpoint daemon ends',
      stopEndpoint.output,
    );
    await sdk.exited;
    check(sdk.output().includes('closed 1001'), 'the endpoint client hears 1001 (going away)', sdk.output());
  } catch (error) {
    check(false, endpointBlock.trim(), error.message);
  }
  mock.signal('SIGINT'); // Ctrl-C in the mock's terminal: npx and the mock both get it
  await mock.exited;
  let groupLeft = true;
  for (let i = 0; i < 50 && groupLeft; i++) {
    try {
      process.kill(-mock.child.pid, 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } catch {
      groupLeft = false;
    }
  }
  check(!groupLeft, 'the mock stops on Ctrl-C (SIGINT), nothing of it left running');

  // 5. Every package from CommonJS and from ESM, in this commonjs project. A platform package of the addon is no
  //    API: its main is the binary, which only CommonJS loads (as @wsproxy/shm-queue does), so it is checked to load
  //    as the addon instead.
  const isBinary = (m) => typeof m.main === 'string' && m.main.endsWith('.node');
  for (const { name } of packed.filter(isBinary)) {
    const addon = inProject('node', [
      '-e',
      `const a = require(${JSON.stringify(name)}); console.log(['create', 'open', 'close', 'unlink'].map((f) => typeof a[f]).join());`,
    ]);
    check(
      addon.code === 0 && addon.stdout.trim() === 'function,function,function,function',
      `require('${name}') is the shm-queue addon`,
      addon.stderr.split('\n')[0],
    );
  }
  for (const { name } of packed.filter((m) => (m.exports || m.main) && !isBinary(m))) {
    const cjs = inProject('node', [
      '-e',
      `const m = require(${JSON.stringify(name)}); console.log(Object.keys(m).length);`,
    ]);
    check(cjs.code === 0 && Number(cjs.stdout) > 0, `require('${name}')`, cjs.stderr.split('\n')[0]);
    const esm = inProject('node', [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(name)}); console.log(Object.keys(m).length);`,
    ]);
    check(esm.code === 0 && Number(esm.stdout) > 0, `import('${name}')`, esm.stderr.split('\n')[0]);
  }
  const exported = inProject('node', [
    '-e',
    `const c = require('@wsproxy/client'); console.log(typeof c.VersionMismatchError, typeof c.connect);`,
  ]);
  check(
    exported.stdout.trim() === 'function function',
    '@wsproxy/client exports VersionMismatchError',
    exported.output,
  );

  // 6. Types as a user writes them: their own @wsproxy/client handed to AlpacaStream (a peer, so one copy).
  writeFileSync(
    join(project, 'typed.mts'),
    `import { AlpacaStream } from '@wsproxy/alpaca-adapter';
import { connect, type DaemonStatus, VersionMismatchError } from '@wsproxy/client';

const client = await connect({ name: 'typed' });
const stream = await AlpacaStream.connect({ client, url: 'ws://127.0.0.1:1/v2/iex' });
const status: DaemonStatus = await client.status();
const refused: unknown = new Error();
if (refused instanceof VersionMismatchError) console.log(refused.code);
console.log(status.clients.length, stream);
`,
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        types: ['node'],
        typeRoots: [join(repoRoot, 'node_modules', '@types')],
      },
      files: ['typed.mts'],
    }),
  );
  const tsc = inProject('node', [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
  check(
    tsc.code === 0,
    "tsc: AlpacaStream.connect({ client }) with the project's own client, DaemonStatus",
    tsc.output,
  );

  // 7. shm-queue on its own: its README's two-process example, as .mjs files in this project.
  const shmReadme = readFileSync(join(repoRoot, 'packages', 'shm-queue', 'README.md'), 'utf8');
  const ring = `npm-user-${process.pid}`;
  const [writerCode] = blocksAfter(shmReadme, 'example:writer');
  const [readerCode] = blocksAfter(shmReadme, 'example:reader');
  writeFileSync(join(project, 'writer.mjs'), writerCode.replaceAll("'demo-ticks'", `'${ring}'`));
  writeFileSync(join(project, 'reader.mjs'), readerCode.replaceAll("'demo-ticks'", `'${ring}'`));
  const writer = startInProject('node', ['writer.mjs'], /$/);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const reader = inProject('node', ['reader.mjs']);
  check(
    reader.code === 0 && reader.stdout.trim().split('\n').join(',') === 'tick 1,tick 2,tick 3,tick 4,tick 5',
    '@wsproxy/shm-queue README: writer.mjs + reader.mjs',
    reader.output,
  );
  check((await writer.exited) === 0, 'the writer ends cleanly', writer.output());

  // 8. The CLI's own checks.
  const version = inProject('npx', ['wsproxy', '--version']);
  const serverVersion = packed.find((m) => m.name === '@wsproxy/proxy-server')?.version;
  check(version.stdout.trim() === serverVersion, 'npx wsproxy --version', version.output);
  const bad = inProject('npx', ['wsproxy', 'start', '--linger', '3000000000']);
  check(
    bad.code === 1 && bad.stderr.includes('WSP_ERR_INVALID_ARGUMENT'),
    'npx wsproxy start --linger 3000000000 is refused',
    bad.output,
  );
}

try {
  await main();
} catch (error) {
  check(false, 'npm-user run', error.stack ?? String(error));
} finally {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }
  const left = existsSync(runtimeDir) ? readdirSync(runtimeDir).filter((f) => f.endsWith('.sock')) : [];
  check(left.length === 0, 'no daemon left running', left.join(' '));
  rmSync(work, { recursive: true, force: true });
  console.log(
    `npm-user: ${failures === 0 ? 'all passed' : `${failures} failed`} in ${Math.round((Date.now() - started) / 1000)} s`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}
