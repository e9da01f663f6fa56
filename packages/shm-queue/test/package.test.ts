import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINARY_ENV, PLATFORM_PACKAGES, platformKey } from '../src/native.js';
import { Cleanup } from './helpers.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = join(packageRoot, '..', '..');
const pnpmVersion = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string }
).packageManager.split('@')[1];

interface Manifest {
  name: string;
  version: string;
  main?: string;
  files?: string[];
  os?: string[];
  cpu?: string[];
  libc?: string[];
  gypfile?: boolean;
  scripts?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
const readManifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
const manifest = readManifest(packageRoot);

describe('platform packages', () => {
  it('one optional dependency per published platform, each installable only where its binary runs', () => {
    expect(Object.keys(manifest.optionalDependencies ?? {}).sort()).toEqual(
      Object.values(PLATFORM_PACKAGES).sort(),
    );
    for (const [key, name] of Object.entries(PLATFORM_PACKAGES)) {
      const platform = readManifest(join(packageRoot, 'npm', key));
      const [os, cpu, libc] = key.split('-');
      expect(platform.name).toBe(name);
      // Published in lockstep: the binary and the JavaScript that drives it always come from the same release.
      expect(platform.version).toBe(manifest.version);
      expect(manifest.optionalDependencies?.[name]).toBe('workspace:*');
      expect(platform.os).toEqual([os]);
      expect(platform.cpu).toEqual([cpu]);
      expect(platform.libc).toEqual(libc === undefined ? undefined : [libc === 'gnu' ? 'glibc' : 'musl']);
      expect(platform.main).toBe(`shm-queue.${key}.node`);
      expect(platform.files).toEqual([platform.main]);
      expect(platform.scripts).toBeUndefined();
    }
  });

  it('@wsproxy/shm-queue has no install script, implicit or explicit', () => {
    for (const hook of ['preinstall', 'install', 'postinstall'])
      expect(manifest.scripts?.[hook]).toBeUndefined();
    // npm invents `node-gyp rebuild` for a package with a binding.gyp at its root; there is none, and gypfile says so.
    expect(manifest.gypfile).toBe(false);
    expect(readdirSync(packageRoot)).not.toContain('binding.gyp');
  });

  it(`${BINARY_ENV} accepts only "source" and "package"`, () => {
    const out = spawnSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(packageRoot)}).Segment.open('x')`],
      { env: { ...process.env, [BINARY_ENV]: 'nope' }, encoding: 'utf8' },
    );
    expect(out.status).not.toBe(0);
    expect(out.stderr).toMatch(/code: 'SHMQ_ERR_NATIVE_ADDON'/);
    expect(out.stderr).toContain(`${BINARY_ENV} must be "source" or "package", got "nope"`);
  });
});

// What an npm user gets: the tarballs as pnpm publishes them (workspace:* becomes the exact version), installed by
// plain npm into a fresh project outside the monorepo. --offline with an empty cache keeps the run off the registry:
// the platform packages not given as tarballs are then unavailable, as if npm had skipped them for another os/cpu/libc.
describe.skipIf(platformKey() !== 'linux-x64-gnu')('what an npm user installs', () => {
  let tarballs: string;
  let shmQueueTarball: string;
  let platformTarball: string;

  beforeAll(() => {
    execFileSync('bash', [join(packageRoot, 'scripts', 'build-platforms.sh'), 'linux-x64-gnu'], {
      stdio: 'pipe',
    });
    tarballs = cleanup.dir();
    const pack = (dir: string) =>
      execFileSync('npx', ['--yes', `pnpm@${pnpmVersion}`, 'pack', '--pack-destination', tarballs], {
        cwd: dir,
        stdio: 'pipe',
      });
    pack(packageRoot);
    pack(join(packageRoot, 'npm', 'linux-x64-gnu'));
    shmQueueTarball = join(tarballs, `wsproxy-shm-queue-${manifest.version}.tgz`);
    platformTarball = join(tarballs, `wsproxy-shm-queue-linux-x64-gnu-${manifest.version}.tgz`);
  }, 120_000);

  function npmInstall(...specs: string[]): { project: string; output: string } {
    const project = cleanup.dir();
    writeFileSync(join(project, 'package.json'), '{ "name": "user-project", "private": true }\n');
    // A cache of its own: npm's shared cache may hold a platform package from an earlier run, which --offline uses.
    const cache = join(project, '.npm-cache');
    const result = spawnSync(
      'npm',
      ['install', '--offline', '--no-audit', '--no-fund', '--cache', cache, ...specs],
      {
        cwd: project,
        encoding: 'utf8',
        env: { ...userEnv(), npm_config_loglevel: 'warn' },
      },
    );
    expect(result.status, result.stderr).toBe(0);
    return { project, output: `${result.stdout}${result.stderr}` };
  }

  const script = (name: string) => `
const { RingReader, RingWriter } = require('@wsproxy/shm-queue');
try {
  const writer = RingWriter.create({ name: '${name}' });
  const reader = RingReader.open({ name: '${name}' });
  writer.write(Buffer.from('from the platform package'));
  console.log(reader.tryRead().toString());
  reader.close();
  writer.close();
} catch (error) {
  console.log(error.code + ': ' + error.message);
}
`;
  // pnpm's bin shims give vitest a NODE_PATH that reaches the monorepo's hoisted packages; a user has none.
  const userEnv = () => ({ ...process.env, NODE_PATH: '', [BINARY_ENV]: '' });
  const run = (project: string, file: string) =>
    execFileSync(process.execPath, [file], { cwd: project, encoding: 'utf8', env: userEnv() });

  it('npm installs it without any install-script warning, and the binary works from CJS and ESM', () => {
    const { project, output } = npmInstall(shmQueueTarball, platformTarball);
    expect(output).not.toMatch(/install script|allowScripts|node-gyp|gyp /i);
    const installed = readManifest(join(project, 'node_modules', '@wsproxy', 'shm-queue'));
    expect(installed.scripts?.install).toBeUndefined();
    expect(readdirSync(join(project, 'node_modules', '@wsproxy', 'shm-queue')).sort()).toEqual([
      'LAYOUT.md',
      'LICENSE',
      'README.md',
      'dist',
      'package.json',
    ]);
    expect(readdirSync(join(project, 'node_modules', '@wsproxy')).sort()).toEqual([
      'shm-queue',
      'shm-queue-linux-x64-gnu',
    ]);

    const cjs = cleanup.name('npm-cjs');
    writeFileSync(join(project, 'main.cjs'), script(cjs));
    expect(run(project, 'main.cjs')).toBe('from the platform package\n');
    const esm = cleanup.name('npm-esm');
    writeFileSync(
      join(project, 'main.mjs'),
      script(esm).replace(
        "const { RingReader, RingWriter } = require('@wsproxy/shm-queue');",
        "import { RingReader, RingWriter } from '@wsproxy/shm-queue';",
      ),
    );
    expect(run(project, 'main.mjs')).toBe('from the platform package\n');
  }, 60_000);

  it('without its platform package: SHMQ_ERR_NO_BINARY naming the package to install', () => {
    const { project } = npmInstall(shmQueueTarball);
    expect(readdirSync(join(project, 'node_modules', '@wsproxy'))).toEqual(['shm-queue']);
    writeFileSync(join(project, 'main.cjs'), script(cleanup.name('npm-nobin')));
    expect(run(project, 'main.cjs')).toMatch(
      /^SHMQ_ERR_NO_BINARY: .*linux-x64-gnu is in the package @wsproxy\/shm-queue-linux-x64-gnu, which is not installed/,
    );
  }, 60_000);
});
