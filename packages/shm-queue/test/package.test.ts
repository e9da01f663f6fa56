import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const nodeGypBuild = dirname(
  createRequire(join(packageRoot, 'package.json')).resolve('node-gyp-build/package.json'),
);

/** Installs what the tarball ships (no build/ folder, no compiler involved) into a fresh node_modules. */
function install(withPrebuilds: boolean): string {
  const project = cleanup.dir();
  const target = join(project, 'node_modules', '@wsproxy', 'shm-queue');
  mkdirSync(target, { recursive: true });
  for (const entry of ['dist', 'package.json', ...(withPrebuilds ? ['prebuilds'] : [])]) {
    cpSync(join(packageRoot, entry), join(target, entry), { recursive: true });
  }
  symlinkSync(nodeGypBuild, join(project, 'node_modules', 'node-gyp-build'));
  return project;
}

const script = (name: string) => `
const { RingReader, RingWriter } = require('@wsproxy/shm-queue');
try {
  const writer = RingWriter.create({ name: '${name}' });
  const reader = RingReader.open({ name: '${name}' });
  writer.write(Buffer.from('from the prebuild'));
  console.log(reader.tryRead().toString());
  reader.close();
  writer.close();
} catch (error) {
  console.log(error.code + ': ' + error.message);
}
`;

describe.skipIf(`${process.platform}-${process.arch}` !== 'linux-x64')('what ships', () => {
  it('works from the shipped linux-x64 prebuild alone (CJS consumer)', () => {
    const project = install(true);
    const name = cleanup.name('pack');
    writeFileSync(join(project, 'main.cjs'), script(name));
    expect(execFileSync(process.execPath, ['main.cjs'], { cwd: project, encoding: 'utf8' })).toBe(
      'from the prebuild\n',
    );
  });

  it('names the platform in SHMQ_ERR_NATIVE_ADDON when no binary can be loaded', () => {
    const project = install(false);
    writeFileSync(join(project, 'main.cjs'), script(cleanup.name('nobin')));
    const out = execFileSync(process.execPath, ['main.cjs'], { cwd: project, encoding: 'utf8' });
    expect(out).toMatch(/^SHMQ_ERR_NATIVE_ADDON: .*linux-x64/);
  });

  it('ships the C source and binding.gyp for the compile-from-source fallback', () => {
    const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
      files: string[];
      scripts: Record<string, string>;
    };
    expect(manifest.files).toEqual(expect.arrayContaining(['prebuilds', 'binding.gyp', 'src/native/*.c']));
    expect(manifest.scripts.install).toBe('node-gyp-build');
  });
});
