// Shell blocks: every command line is run (in a private world: mock upstream, private runtime folder, free
// loopback ports) or, when it cannot run here, checked by a rule. A line no rule knows fails the checker.
// Own-line `# ...` comments after a command that ran are its output, checked against the real output (numbers and
// absolute paths are free); trailing `# ...` comments describe the command.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type EndpointDaemon,
  onPort,
  proveServed,
  SDK_URL_ENVS,
  selfSignedCertificate,
  startDaemon,
} from './endpoint.js';
import { type Block, repoRoot } from './extract.js';
import { bins, MOCK_KEYS, type Watched, World } from './world.js';

export type Status = 'ran' | 'checked' | 'fail';
export interface LineResult {
  readonly where: string;
  readonly command: string;
  readonly status: Status;
  readonly detail: string;
}

interface Manifest {
  name: string;
  private?: boolean;
  scripts?: Record<string, string>;
  bin?: Record<string, string>;
  publishConfig?: { access?: string };
}
const readJson = (path: string) =>
  JSON.parse(readFileSync(path, 'utf8')) as Manifest & { packageManager?: string };
const rootManifest = () => readJson(join(repoRoot, 'package.json'));
const pinnedPnpm = () => rootManifest().packageManager?.split('@')[1];

/** Every workspace package by name. */
export function workspacePackages(): Map<string, Manifest & { dir: string }> {
  const out = new Map<string, Manifest & { dir: string }>();
  for (const group of ['packages', 'apps', 'tools']) {
    const base = join(repoRoot, group);
    if (!existsSync(base)) continue;
    for (const dir of readdirSync(base)) {
      const path = join(base, dir, 'package.json');
      if (existsSync(path)) out.set(readJson(path).name, { ...readJson(path), dir: `${group}/${dir}` });
    }
  }
  const bench = join(repoRoot, 'benchmarks', 'package.json');
  if (existsSync(bench)) out.set(readJson(bench).name, { ...readJson(bench), dir: 'benchmarks' });
  return out;
}

let productSources: string | undefined;
/** Whether the product's source (packages/*\/src, apps/*\/src) reads this environment variable. */
function productReads(name: string): boolean {
  if (productSources === undefined) {
    const texts: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(dir, entry.name));
        else if (/\.(ts|js|mjs)$/.test(entry.name)) texts.push(readFileSync(join(dir, entry.name), 'utf8'));
      }
    };
    for (const group of ['packages', 'apps'])
      for (const dir of readdirSync(join(repoRoot, group))) {
        const src = join(repoRoot, group, dir, 'src');
        if (existsSync(src)) walk(src);
      }
    productSources = texts.join('\n');
  }
  return new RegExp(`\\b${name}\\b`).test(productSources);
}

/** `--help` of a command, once. */
const helps = new Map<string, string>();
function helpOf(file: string, cwd = repoRoot): string {
  if (!helps.has(file)) {
    const r = spawnSync(process.execPath, [file, '--help'], { cwd, encoding: 'utf8', timeout: 15_000 });
    if (r.status !== 0) throw new Error(`${file} --help exited ${r.status}: ${r.stderr}`);
    helps.set(file, r.stdout + r.stderr);
  }
  return helps.get(file)!;
}
function flagsMissingFromHelp(args: string[], help: string): string[] {
  return args
    .filter((a) => /^--?[a-zA-Z]/.test(a))
    .map((a) => a.split('=')[0]!)
    .filter((f) => !new RegExp(`(^|[\\s,])${f}\\b`).test(help));
}

/** A comment showing output, as a pattern over the real output: numbers and absolute paths may differ. */
export function outputPattern(comment: string): RegExp {
  const shown = comment
    .replace(/^#\s*/, '')
    .split(/\s{2,}/)[0]!
    .trim();
  const parts = shown
    .split(/\s+/)
    .map((token) =>
      token.startsWith('/') ? '\\S+' : token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\d+/g, '\\d+'),
    );
  return new RegExp(parts.join('\\s+'));
}

/** Splits a command into leading NAME=value assignments and the words after them. */
function words(part: string): { env: Record<string, string>; argv: string[] } {
  const all = part.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (all.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(all[0]!)) {
    const [name, ...value] = all.shift()!.split('=');
    env[name!] = value.join('=');
  }
  return { env, argv: all };
}

const isPlaceholder = (value: string) => value === '...' || value === '';

/** The state of one block while its lines run: its world, exported env, started processes, the last output. */
class BlockRun {
  private world: World | undefined;
  readonly exported: Record<string, string> = {};
  readonly aliases = new Map<string, string[]>();
  /** Daemons started by this block, by the port the docs gave them (e.g. 8765). */
  readonly daemons = new Map<string, EndpointDaemon & { ca?: string }>();
  readonly mocks: Watched[] = [];
  lastOutput: string | undefined;

  async ensureWorld(): Promise<World> {
    this.world ??= await World.create();
    return this.world;
  }

  /** The environment commands of this block see: the docs' exports (placeholders become the mock's keys). */
  env(world: World, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...world.env() };
    for (const name of Object.keys(env)) if (name.startsWith('APCA_')) delete env[name];
    for (const [name, value] of Object.entries({ ...this.exported, ...extra }))
      env[name] = isPlaceholder(value) ? (MOCK_KEYS[name as keyof typeof MOCK_KEYS] ?? value) : value;
    return env;
  }

  async close(): Promise<string[]> {
    const problems: string[] = [];
    for (const mock of this.mocks) {
      const { code, signal } = await mock.stop('SIGINT');
      if (code !== 0) problems.push(`${mock.command} exited ${code ?? signal} on SIGINT, expected 0`);
    }
    if (this.world) problems.push(...(await this.world.close()));
    return problems;
  }
}

type Rule = (
  argv: string[],
  env: Record<string, string>,
  comment: string,
  run: BlockRun,
) => Promise<Omit<LineResult, 'where' | 'command'> | null>;

/** `npx --yes pnpm@V <script>` / `pnpm <script>`: the pinned version and a script that exists. Not run here. */
const pnpmRule: Rule = async (argv) => {
  let rest = argv;
  if (rest[0] === 'npx') rest = rest.slice(rest[1] === '--yes' ? 2 : 1);
  const m = /^pnpm(?:@(.+))?$/.exec(rest[0] ?? '');
  if (!m) return null;
  if (m[1] !== undefined && m[1] !== pinnedPnpm())
    return { status: 'fail', detail: `pnpm@${m[1]} but package.json pins pnpm@${pinnedPnpm()}` };
  const args = rest.slice(1);
  if (args.length === 0) return { status: 'checked', detail: `pnpm ${pinnedPnpm()}, the pinned version` };
  if (args[0] === 'install')
    return { status: 'checked', detail: `pnpm ${pinnedPnpm()} install (.ci/run runs it)` };
  if (args[0] === '--filter') {
    const pkg = workspacePackages().get(args[1]!);
    const script = args[2] === 'run' ? args[3] : args[2];
    if (!pkg?.scripts?.[script ?? ''])
      return { status: 'fail', detail: `no package ${args[1]} with script ${script}` };
    return { status: 'checked', detail: `${args[1]} has script ${script}` };
  }
  const script = args[0] === 'run' ? args[1] : args[0];
  const scripts = rootManifest().scripts ?? {};
  if (!script || !scripts[script])
    return { status: 'fail', detail: `the root package.json has no script "${script}"` };
  // Whole-repository commands are not run from inside the test suite; who does run them:
  const runBy: Record<string, string> = {
    build: 'turbo builds before every test run',
    test: '.ci/run runs it (the README test command)',
    demo: 'apps/example-strategy/test/demo.test.ts runs its dist/demo.js',
    'bench:quick': '.ci/run runs it',
    chaos: '.ci/run runs its 60 s variant',
    bench: 'the full benchmark: run by hand, bench:quick in CI',
  };
  return {
    status: 'checked',
    detail: `root script ${script} = ${scripts[script]} (${runBy[script] ?? 'not run here'})`,
  };
};

/** `alias pnpm='...'`: what it stands for must itself pass the pnpm rule. */
const aliasRule = async (
  line: string,
  run: BlockRun,
): Promise<Omit<LineResult, 'where' | 'command'> | null> => {
  const m = /^alias\s+([\w-]+)='([^']*)'$/.exec(line.trim());
  if (!m) return null;
  const target = m[2]!.split(/\s+/);
  const checked = await pnpmRule(target, {}, '', run);
  if (!checked) return { status: 'fail', detail: `no rule for the alias target ${m[2]}` };
  run.aliases.set(m[1]!, target);
  return checked;
};

/** `npm install [--save-dev] @wsproxy/x ...`: each package exists in the workspace under that name and is public. */
const npmInstallRule: Rule = async (argv) => {
  if (argv[0] !== 'npm' || !['install', 'i', 'add'].includes(argv[1] ?? '')) return null;
  const names = argv.slice(2).filter((a) => !a.startsWith('-'));
  const packages = workspacePackages();
  const wrong = names.filter((n) => {
    const pkg = packages.get(n);
    return !pkg || pkg.private || pkg.publishConfig?.access !== 'public';
  });
  if (names.length === 0 || wrong.length > 0)
    return {
      status: 'fail',
      detail: `not a public workspace package: ${wrong.join(', ') || '(none named)'}`,
    };
  return { status: 'checked', detail: `${names.join(', ')}: published workspace packages` };
};

/** `export NAME=value ...`: variables the product reads; `...` placeholders become the mock's keys. */
const exportRule: Rule = async (argv, _env, _comment, run) => {
  if (argv[0] !== 'export') return null;
  const unknown: string[] = [];
  for (const assignment of argv.slice(1)) {
    const [name, ...value] = assignment.split('=');
    if (!productReads(name!)) unknown.push(name!);
    run.exported[name!] = value.join('=');
  }
  if (unknown.length > 0) return { status: 'fail', detail: `no source reads ${unknown.join(', ')}` };
  return { status: 'checked', detail: `the product reads ${Object.keys(run.exported).join(', ')}` };
};

/** Runs `wsproxy ...` for real in the block's world. */
const wsproxyRule: Rule = async (argv, env, _comment, run) => {
  let rest = argv;
  if (rest[0] === 'npx') rest = rest.slice(rest[1] === '--yes' ? 2 : 1);
  if (rest[0] !== 'wsproxy') return null;
  const args = rest.slice(1);
  const missing = flagsMissingFromHelp(args, helpOf(bins.wsproxy!));
  if (missing.length > 0) return { status: 'fail', detail: `not in wsproxy --help: ${missing.join(' ')}` };
  const world = await run.ensureWorld();
  if (args[0] === '--help' || args[0] === '-h') {
    const r = await world.wsproxy(args);
    run.lastOutput = r.stdout;
    return r.status === 0 && /Usage: wsproxy/.test(r.stdout)
      ? { status: 'ran', detail: 'exit 0, usage printed' }
      : { status: 'fail', detail: `exit ${r.status}: ${r.stderr}` };
  }
  if (args[0] === 'start') {
    const tls = args.includes('--tls-cert');
    if (tls) selfSignedCertificate(world.workDir);
    const docPort = /(\d+)$/.exec(args[args.indexOf('--listen') + 1] ?? '')?.[1];
    const daemon = await startDaemon(world, args, { env: run.env(world, env) });
    run.lastOutput = daemon.child.stdout();
    let detail = `daemon up${daemon.url ? ` with the endpoint on ${daemon.url}` : ''}`;
    if (daemon.url) {
      const ca = tls ? join(world.workDir, 'cert.pem') : undefined;
      run.daemons.set(docPort ?? '', { ...daemon, ...(ca ? { ca } : {}) });
      const json = await proveServed(`${daemon.url}/v2/iex`, { msgpack: false, ...(ca ? { ca } : {}) });
      detail += `; ${daemon.url}/v2/iex ${json}`;
    } else run.daemons.set('', daemon);
    return { status: 'ran', detail };
  }
  // status / logs / stop show a running daemon: start one in this world if the block has not.
  if (run.daemons.size === 0)
    run.daemons.set('', await startDaemon(world, ['start', '--linger', '60000'], { env: run.env(world) }));
  const r = await world.wsproxy(args, run.env(world, env));
  run.lastOutput = r.stdout;
  const expectations: Record<string, (out: string) => boolean> = {
    status: (out) =>
      args.includes('--json')
        ? (JSON.parse(out) as { running?: boolean }).running === true
        : /^daemon \d+ v/m.test(out),
    logs: (out) => /daemon started/.test(out),
    stop: (out) => /stopped wsproxy daemon \d+/.test(out),
  };
  const expected = expectations[args[0] ?? ''];
  if (!expected) return { status: 'fail', detail: `no check for wsproxy ${args[0]}` };
  if (r.status !== 0 || !expected(r.stdout))
    return { status: 'fail', detail: `exit ${r.status}: ${r.stdout}${r.stderr}` };
  return { status: 'ran', detail: `exit 0: ${r.stdout.split('\n')[0]!.slice(0, 70)}` };
};

/**
 * `npx @wsproxy/alpaca-mock ...` (or `alpaca-mock ...` where it is installed): started on a free port, its start line
 * read, stopped with SIGINT (exit 0). A bare `npx alpaca-mock` fails: that unscoped name is not ours.
 */
const alpacaMockRule: Rule = async (argv, env, _comment, run) => {
  let rest = argv;
  if (rest[0] === 'npx') {
    rest = rest.slice(rest[1] === '--yes' ? 2 : 1);
    if (rest[0] === 'alpaca-mock')
      return { status: 'fail', detail: 'npx alpaca-mock fetches an unscoped package that is not ours' };
    if (rest[0] === '@wsproxy/alpaca-mock') rest = ['alpaca-mock', ...rest.slice(1)];
  }
  if (rest[0] !== 'alpaca-mock') return null;
  const args = rest.slice(1);
  const missing = flagsMissingFromHelp(args, helpOf(bins['alpaca-mock']!));
  if (missing.length > 0)
    return { status: 'fail', detail: `not in alpaca-mock --help: ${missing.join(' ')}` };
  const world = await run.ensureWorld();
  const real = [...args];
  const port = real.indexOf('--port');
  if (port >= 0) real[port + 1] = '0'; // the mock picks a free port and prints it
  const mock = world.watch(bins['alpaca-mock']!, real, { env: run.env(world, env) });
  run.mocks.push(mock);
  await mock.waitFor([/alpaca-mock listening on ws:\/\/127\.0\.0\.1:\d+/], 10_000);
  run.lastOutput = mock.stdout();
  return {
    status: 'ran',
    detail: `${mock.stdout().split('\n')[0]}; stopped with SIGINT at the end of the block`,
  };
};

/** `node <a script of this repository> ...`: run; with real-Alpaca placeholders, its flags checked instead. */
const nodeScriptRule: Rule = async (argv, env, _comment, run) => {
  if (argv[0] !== 'node' || !argv[1] || !existsSync(join(repoRoot, argv[1]))) return null;
  const script = join(repoRoot, argv[1]);
  const args = argv.slice(2);
  const missing = flagsMissingFromHelp(args, helpOf(script));
  if (missing.length > 0) return { status: 'fail', detail: `not in its --help: ${missing.join(' ')}` };
  const placeholders = Object.entries(env)
    .filter(([, v]) => isPlaceholder(v))
    .map(([k]) => k);
  if (placeholders.length > 0) {
    const unread = placeholders.filter((p) => !productReads(p));
    if (unread.length > 0) return { status: 'fail', detail: `no source reads ${unread.join(', ')}` };
    return {
      status: 'checked',
      detail: `needs real Alpaca keys (${placeholders.join(', ')}): flags in --help, env read by the source`,
    };
  }
  const world = await run.ensureWorld();
  if (args.includes('--help')) {
    run.lastOutput = helpOf(script);
    return { status: 'ran', detail: `exit 0: ${helpOf(script).split('\n')[0]!.slice(0, 60)}` };
  }
  const child = world.watch(script, args, { env: run.env(world, env), cwd: repoRoot });
  await child.waitFor([/\S\n/], 20_000);
  await new Promise((r) => setTimeout(r, 1000));
  const { code, signal } = await child.stop('SIGINT', 10_000);
  run.lastOutput = child.stdout();
  if (code !== 0) return { status: 'fail', detail: `exit ${code ?? signal} on SIGINT: ${child.stderr()}` };
  return {
    status: 'ran',
    detail: `printed "${child.stdout().split('\n')[0]!.slice(0, 60)}", exit 0 on SIGINT`,
  };
};

/** `SDK_URL_ENV=ws://127.0.0.1:8765 <the user's program>`: the endpoint serves that URL as the SDK extends it. */
const sdkUrlRule: Rule = async (argv, env, comment, run) => {
  const name = Object.keys(env).find((n) => n in SDK_URL_ENVS && /^wss?:\/\//.test(env[n]!));
  if (!name) return null;
  const base = env[name]!;
  const docPort = new URL(base).port;
  const world = await run.ensureWorld();
  // Flags the comment says the daemon was started with (e.g. `# with --listen-token my-token`).
  const flags = [...comment.matchAll(/(--[a-z-]+)\s+(\S+)/g)].flatMap((m) => [m[1]!, m[2]!]);
  let daemon = run.daemons.get(`${docPort}${flags.join(' ')}`);
  if (!daemon) {
    const tls = base.startsWith('wss:');
    if (tls) selfSignedCertificate(world.workDir);
    const args = [
      'start',
      '--adapter',
      '@wsproxy/alpaca-adapter/daemon',
      '--listen',
      `127.0.0.1:${docPort}`,
      ...flags,
    ];
    if (tls) args.push('--tls-cert', 'cert.pem', '--tls-key', 'key.pem');
    const started = await startDaemon(world, args, {
      env: run.env(world),
      namespace: `sdk-${run.daemons.size}`,
    });
    daemon = { ...started, ...(tls ? { ca: join(world.workDir, 'cert.pem') } : {}) };
    run.daemons.set(`${docPort}${flags.join(' ')}`, daemon);
  }
  const url = `${onPort(base, daemon.port).replace(/\/$/, '')}${SDK_URL_ENVS[name]}`;
  const ca = env.NODE_EXTRA_CA_CERTS ? join(world.workDir, env.NODE_EXTRA_CA_CERTS) : daemon.ca;
  const result = await proveServed(url, ca ? { ca } : {});
  return {
    status: 'ran',
    detail: `${name} + ${SDK_URL_ENVS[name]}: ${url} served (${result}); ${argv.join(' ')} is the user's program`,
  };
};

const rules: Rule[] = [
  pnpmRule,
  npmInstallRule,
  exportRule,
  wsproxyRule,
  alpacaMockRule,
  nodeScriptRule,
  sdkUrlRule,
];

export async function checkShellBlock(block: Block): Promise<LineResult[]> {
  const run = new BlockRun();
  const results: LineResult[] = [];
  const lines = block.code.split('\n');
  try {
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]!;
      const where = `${block.file}:${block.line + 1 + i}`;
      if (text.trim() === '') continue;
      if (text.trim().startsWith('#')) {
        if (run.lastOutput === undefined) {
          results.push({
            where,
            command: text.trim(),
            status: 'fail',
            detail: 'an output comment after no command that ran',
          });
          continue;
        }
        const pattern = outputPattern(text.trim());
        results.push(
          pattern.test(run.lastOutput)
            ? { where, command: text.trim(), status: 'ran', detail: 'matches the real output' }
            : {
                where,
                command: text.trim(),
                status: 'fail',
                detail: `not in the output (${pattern}):\n${run.lastOutput}`,
              },
        );
        continue;
      }
      const [command = '', ...commentParts] = text.split(/\s+#\s/);
      const comment = commentParts.join(' # ');
      run.lastOutput = undefined;
      const aliased = await aliasRule(command, run);
      if (aliased) {
        results.push({ where, command: command.trim(), ...aliased });
        continue;
      }
      for (const part of command.split('&&')) {
        let { env, argv } = words(part);
        const alias = run.aliases.get(argv[0] ?? '');
        if (alias) argv = [...alias, ...argv.slice(1)];
        let result: Omit<LineResult, 'where' | 'command'> | null = null;
        try {
          for (const rule of rules) {
            result = await rule(argv, env, comment, run);
            if (result) break;
          }
        } catch (error) {
          result = { status: 'fail', detail: (error as Error).message };
        }
        results.push({
          where,
          command: part.trim(),
          ...(result ?? { status: 'fail', detail: 'no rule runs or checks this command' }),
        });
      }
    }
  } finally {
    for (const problem of await run.close())
      results.push({
        where: `${block.file}:${block.line}`,
        command: '(cleanup)',
        status: 'fail',
        detail: problem,
      });
  }
  return results;
}
