import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NativeAddonError, NoBinaryError } from './errors.js';

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

/**
 * Platforms with a published binary, each in its own package (an optional dependency of this one, whose
 * `os`/`cpu`/`libc` fields make npm and pnpm install only the one that fits, with no install script).
 */
export const PLATFORM_PACKAGES: Readonly<Record<string, string>> = {
  'linux-x64-gnu': '@wsproxy/shm-queue-linux-x64-gnu',
  'linux-x64-musl': '@wsproxy/shm-queue-linux-x64-musl',
  'linux-arm64-gnu': '@wsproxy/shm-queue-linux-arm64-gnu',
  'darwin-x64': '@wsproxy/shm-queue-darwin-x64',
  'darwin-arm64': '@wsproxy/shm-queue-darwin-arm64',
  'win32-x64': '@wsproxy/shm-queue-win32-x64',
};

/**
 * `WSPROXY_SHM_QUEUE_BINARY` picks where the addon comes from: `source` = only the local node-gyp build
 * (src/native/build/Release, made by `pnpm build` in the monorepo), `package` = only the platform package; unset =
 * the local build when there is one, else the platform package.
 */
export const BINARY_ENV = 'WSPROXY_SHM_QUEUE_BINARY';

let addon: ShmAddon | undefined;

/** Loads the addon once. */
export function shm(): ShmAddon {
  if (addon === undefined) addon = loadAddon();
  return addon;
}

/** This machine's platform key: `<platform>-<arch>`, plus `-gnu`/`-musl` on Linux. */
export function platformKey(): string {
  const base = `${process.platform}-${process.arch}`;
  return process.platform === 'linux' ? `${base}-${linuxLibc()}` : base;
}

function linuxLibc(): 'gnu' | 'musl' {
  // Node reports the glibc it runs on; a Node built for musl has none to report.
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? 'gnu' : 'musl';
}

function loadAddon(): ShmAddon {
  const require = createRequire(import.meta.url);
  const choice = process.env[BINARY_ENV] ?? '';
  if (choice !== '' && choice !== 'source' && choice !== 'package') {
    throw new NativeAddonError(`${BINARY_ENV} must be "source" or "package", got ${JSON.stringify(choice)}`);
  }
  // src/ and dist/ both sit one level below the package root.
  const localBuild = fileURLToPath(new URL('../src/native/build/Release/shm_queue.node', import.meta.url));
  if (choice === 'source' || (choice === '' && existsSync(localBuild))) {
    if (!existsSync(localBuild)) {
      throw new NativeAddonError(
        `@wsproxy/shm-queue: ${BINARY_ENV}=source but there is no local build at ${localBuild}; ` +
          'run `pnpm build` (node-gyp: Python 3, make and a C compiler) in the repository first.',
      );
    }
    return loadFile(require, localBuild, 'the local build');
  }
  return loadPlatformPackage(require);
}

function loadPlatformPackage(require: NodeJS.Require): ShmAddon {
  const key = platformKey();
  const name = PLATFORM_PACKAGES[key];
  if (name === undefined) {
    throw new NoBinaryError(
      key,
      undefined,
      `@wsproxy/shm-queue: no binary is published for ${key} (Node ${process.versions.node}); published ones: ` +
        `${Object.keys(PLATFORM_PACKAGES).join(', ')}. Build it from source in the wsproxy repository ` +
        `(\`pnpm build\`) and set ${BINARY_ENV}=source.`,
    );
  }
  let path: string;
  try {
    path = require.resolve(name);
  } catch (error) {
    throw new NoBinaryError(
      key,
      name,
      `@wsproxy/shm-queue: the binary for ${key} is in the package ${name}, which is not installed. It is an ` +
        'optional dependency of @wsproxy/shm-queue: install again without --omit=optional / --no-optional, ' +
        `from a lockfile made on this platform, or add it yourself (\`npm install ${name}\`).`,
      error,
    );
  }
  return loadFile(require, path, name);
}

function loadFile(require: NodeJS.Require, path: string, what: string): ShmAddon {
  try {
    return require(path) as ShmAddon;
  } catch (error) {
    throw new NativeAddonError(
      `@wsproxy/shm-queue: ${what} (${path}) does not load on ${platformKey()} (Node ${process.versions.node}): ` +
        `${(error as Error).message}`,
      error,
    );
  }
}
