import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NativeAddonError } from './errors.js';

/** The C addon's surface (src/native/shm.c). */
export interface Mapping {
  readonly buffer: ArrayBuffer;
  readonly handle: object;
}

interface ShmAddon {
  create(name: string, size: number): Mapping;
  open(name: string): Mapping;
  close(handle: object, buffer: ArrayBuffer): void;
  unlink(name: string): boolean;
}

let addon: ShmAddon | undefined;

/** Loads the addon once: a prebuild from prebuilds/<platform>-<arch>/ or a local build/Release. */
export function shm(): ShmAddon {
  if (addon === undefined) addon = loadAddon();
  return addon;
}

function loadAddon(): ShmAddon {
  // src/ and dist/ both sit one level below the package root, which holds binding.gyp and prebuilds/.
  const packageRoot = fileURLToPath(new URL('..', import.meta.url));
  const require = createRequire(import.meta.url);
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => ShmAddon;
    return nodeGypBuild(packageRoot);
  } catch (error) {
    throw new NativeAddonError(
      `@wsproxy/shm-queue: no native addon for ${process.platform}-${process.arch} (Node ${process.versions.node}). ` +
        'No prebuild matched and no local build was found; build it from source with ' +
        '`npx node-gyp rebuild` in the package folder (needs Python and a C compiler).',
      error,
    );
  }
}
