// Builds the addon from source for development. A machine without Python or a C compiler still builds the package
// when a prebuild for this platform ships in prebuilds/ (node-gyp-build prefers a local build, then the prebuild),
// so a fresh clone needs nothing but Node.js and npm; only a platform with neither fails, and says why.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--loglevel=warn'], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status === 0) process.exit(0);

const target = `${process.platform}-${process.arch}`;
const prebuildDir = join(root, 'prebuilds', target);
if (existsSync(prebuildDir) && readdirSync(prebuildDir).some((f) => f.endsWith('.node'))) {
  console.warn(
    `@wsproxy/shm-queue: compiling the addon failed (see above); using the shipped prebuild for ${target} instead.`,
  );
  process.exit(0);
}
console.error(
  `@wsproxy/shm-queue: cannot build the addon for ${target} and no prebuild ships for it. ` +
    'Install Python 3, make and a C compiler (node-gyp prerequisites) and build again.',
);
process.exit(1);
