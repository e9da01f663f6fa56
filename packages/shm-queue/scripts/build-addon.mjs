// Builds the addon from source for this machine with node-gyp (contributors' path: `pnpm build`). The result,
// src/native/build/Release/shm_queue.node, is what src/native.ts loads first in the monorepo; published installs
// never have it and load the per-platform package instead (see scripts/build-platforms.sh).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'native');
const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const args = [nodeGyp, 'rebuild', '--loglevel=warn'];
// A Node installed from its tarball or a distro package carries its own headers (<prefix>/include/node); with them
// node-gyp needs no download from nodejs.org, which CI and offline machines cannot reach.
const prefix = join(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const result = spawnSync(process.execPath, args, { cwd: nativeDir, stdio: 'inherit' });
if (result.status === 0) process.exit(0);
console.error(
  `@wsproxy/shm-queue: cannot build the addon for ${process.platform}-${process.arch}. Install Python 3, make and ` +
    'a C compiler (node-gyp prerequisites) and build again.',
);
process.exit(1);
