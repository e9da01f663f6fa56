// The adapters a daemon can open connections with, and where they came from. Besides the built-in passthrough and
// the modules named at start (`wsproxy start --adapter <module>`), an `open` may name its adapter's module
// (protocol version 2, `adapterModule`): whichever process happened to spawn the daemon, a later client that brings
// its own adapter (AlpacaStream does) still gets it. The socket is 0600 and owner-only, so the requester is the
// daemon's own user and may run code as that user anyway; the rules below keep a request from naming something
// surprising (a relative path resolved against the daemon's cwd, a URL, a Node built-in), keep a module that fails
// to load (or never finishes) an error for its requester only, and keep a module from claiming adapter names it was
// not loaded for. A module that loads runs inside the daemon: what it does then (block, throw later) is the daemon's.

import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AdapterStatus } from '@wsproxy/protocol';
import type { Logger } from 'pino';
import { passthrough, type UpstreamAdapterFactory } from './adapter.js';
import { type AdapterBuild, AdapterLoadError, AdapterMismatchError } from './errors.js';

/**
 * An open waits this long for a module to load; one that never settles (a top-level await that hangs) must not
 * hang every open that names it for the daemon's whole life.
 */
const ADAPTER_LOAD_TIMEOUT_MS = 10_000;

function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * An npm package name, optionally scoped, with optional subpath segments (`@wsproxy/alpaca-adapter/daemon`). No
 * colon (so no `file:`, `data:`, `node:` or `http:` URL), no leading `.` or `/` (so nothing relative or absolute).
 */
const PACKAGE_SPECIFIER = /^(?:@[a-z0-9~][\w.~-]*\/)?[a-z0-9~][\w.~-]*(?:\/[\w.~@+-]+)*$/i;

/**
 * Where a package specifier resolves in the project the command runs in, or undefined. Deliberately narrow, because
 * the daemon is long-lived and shared: the project is the nearest folder above `cwd` with a package.json, and it
 * must be ours and not writable by others; the package must be that project itself or sit in ITS node_modules
 * (a workspace or pnpm link is fine), never in a node_modules further up, where another user could plant one
 * (`/tmp/node_modules`).
 */
function resolveFromProject(specifier: string, cwd: string): string | undefined {
  const segments = specifier.split('/');
  const packageName = specifier.startsWith('@') ? segments.slice(0, 2).join('/') : segments[0]!;
  let root = resolve(cwd);
  while (!existsSync(join(root, 'package.json'))) {
    const parent = dirname(root);
    if (parent === root) return undefined;
    root = parent;
  }
  const ownedByUs = (path: string) => {
    const stat = statSync(path);
    return (process.getuid === undefined || stat.uid === process.getuid()) && (stat.mode & 0o022) === 0;
  };
  try {
    if (!ownedByUs(root)) return undefined;
    const project = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: unknown };
    const packageDir = project.name === packageName ? root : join(root, 'node_modules', packageName);
    if (!existsSync(join(packageDir, 'package.json'))) return undefined;
    const realDir = realpathSync(packageDir);
    // From inside the package, its own name resolves through its `exports` (self-reference).
    const resolved = realpathSync(createRequire(join(realDir, 'package.json')).resolve(specifier));
    if (!resolved.startsWith(realDir + sep) || !ownedByUs(resolved)) return undefined;
    return resolved;
  } catch {
    return undefined;
  }
}

/** The module's adapter factories: its `default`, `adapter` and `adapters` exports (the `--adapter` contract). */
export function adapterFactoriesOf(module: Record<string, unknown>): UpstreamAdapterFactory[] {
  // A CommonJS build imported from ESM has its `export default` one level down (`module.default.default`).
  const commonJsDefault = (module.default as { default?: unknown } | null | undefined)?.default;
  return [
    module.default,
    commonJsDefault,
    module.adapter,
    ...(Array.isArray(module.adapters) ? module.adapters : []),
  ].filter(
    (candidate): candidate is UpstreamAdapterFactory =>
      typeof candidate === 'object' &&
      candidate !== null &&
      typeof (candidate as UpstreamAdapterFactory).name === 'string' &&
      typeof (candidate as UpstreamAdapterFactory).create === 'function',
  );
}

/**
 * Checks a module named by a client and returns the key it is loaded under: a normalised absolute path to an
 * existing file, or the package specifier itself. Throws `AdapterLoadError` for anything else.
 */
export function checkAdapterModule(module: string): string {
  if (typeof module !== 'string' || module.length === 0) {
    throw new AdapterLoadError(String(module), 'it must be a non-empty string');
  }
  // A network path (UNC on Windows, or two leading slashes) would fetch the code from another machine.
  if (/^[\\/]{2}/.test(module)) throw new AdapterLoadError(module, 'a network path is not accepted');
  if (isAbsolute(module)) {
    const path = normalize(module);
    let isFile = false;
    try {
      isFile = statSync(path).isFile();
    } catch {
      // Reported below, with the path.
    }
    if (!isFile) throw new AdapterLoadError(module, 'there is no file at that path');
    return path;
  }
  const segments = module.split('/');
  if (
    !PACKAGE_SPECIFIER.test(module) ||
    segments.some((segment) => segment === '.' || segment === '..') ||
    isBuiltin(module)
  ) {
    throw new AdapterLoadError(
      module,
      'it must be an absolute path to a file or a package specifier (e.g. @wsproxy/alpaca-adapter/daemon)',
    );
  }
  return module;
}

/** The file a module key stands for (a package specifier resolved from the daemon's installation), or undefined. */
function moduleFile(key: string): string | undefined {
  try {
    const path = isAbsolute(key) ? key : fileURLToPath(import.meta.resolve(key));
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The version of the package a module file belongs to: the nearest package.json above it that has one. */
function packageVersionOf(file: string): string | undefined {
  let dir = dirname(file);
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
      if (typeof manifest.version === 'string') return manifest.version;
    } catch {
      // No package.json here (or unreadable): look further up.
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Which build a module key is: its real file and package version (both unknown when it cannot be resolved). */
function buildOf(key: string): AdapterBuild {
  const file = moduleFile(key);
  return { module: file ?? key, version: file ? packageVersionOf(file) : undefined };
}

/** The same build: the same file, or the same version of the same adapter (two installs of one release). */
function sameBuild(a: AdapterBuild, b: AdapterBuild): boolean {
  if (a.module === b.module) return true;
  return a.version !== undefined && a.version === b.version;
}

/** The daemon's adapters by name. `factories` is the live map the upstream registry looks names up in. */
export class AdapterCatalog {
  readonly factories = new Map<string, UpstreamAdapterFactory>([[passthrough.name, passthrough]]);
  /** Module each adapter came from; absent for the built-in and for factories handed over as objects. */
  private readonly modules = new Map<string, string>();
  /** The build each module-loaded adapter runs: an open naming another build of the same adapter is refused. */
  private readonly builds = new Map<string, AdapterBuild>();
  /** One load per module key, shared by every open that names it while it runs; kept once it succeeded. */
  private readonly loads = new Map<string, Promise<readonly UpstreamAdapterFactory[]>>();

  /** Unset while modules named at start are loaded: the daemon has no log file before it is sure to start. */
  logger: Logger | undefined;

  /** Adds factories given as objects (`DaemonOptions.adapters`); a later one of the same name wins, as before. */
  add(factories: readonly UpstreamAdapterFactory[]): void {
    for (const factory of factories) this.factories.set(factory.name, factory);
  }

  /**
   * Loads a module named at start (`--adapter`; relative paths are resolved against `cwd`). Throws
   * `AdapterLoadError` when it cannot be loaded or exports no factory: a daemon asked for an adapter must not start
   * without it.
   */
  async preload(module: string, cwd = process.cwd()): Promise<void> {
    const given = module.startsWith('.') ? resolve(cwd, module) : module;
    const checked = checkAdapterModule(given);
    let key = checked;
    let factories: readonly UpstreamAdapterFactory[];
    try {
      factories = await this.load(key);
    } catch (error) {
      // Not in the daemon's own installation (under pnpm, @wsproxy/proxy-server cannot see its siblings): look in
      // the project the command runs in, narrowly (see resolveFromProject).
      const inProject = isAbsolute(checked) ? undefined : resolveFromProject(checked, cwd);
      if (inProject === undefined) throw error;
      key = inProject;
      factories = await this.load(key);
    }
    // The operator named this module: every adapter it exports is registered, replacing one of the same name.
    for (const factory of factories) this.register(key, factory);
    if (factories.length === 0) throw new AdapterLoadError(module, 'it exports no adapter factory');
  }

  /**
   * Makes sure the adapter `name` is available, loading `module` if it is not (an `open`'s `adapterModule`).
   * Throws `AdapterLoadError` for this requester only; the catalogue and every other connection stay as they were.
   */
  async ensure(name: string, module: string): Promise<void> {
    const key = checkAdapterModule(module);
    // Loaded already: fine if it is the build this open brings, refused (naming both) if it is another one.
    if (this.factories.has(name)) return this.checkBuild(name, key);
    const factories = await this.load(key);
    // Another open may have registered the name meanwhile: the first one stays, nothing is ever replaced.
    if (this.factories.has(name)) return this.checkBuild(name, key);
    // Only the adapter asked for: a module loaded for one name must not claim others that later clients ask for.
    const factory = factories.find((f) => f.name === name);
    if (factory) {
      this.register(key, factory);
      return;
    }
    throw new AdapterLoadError(
      module,
      factories.length === 0
        ? 'it exports no adapter factory (as default, `adapter` or `adapters`)'
        : `it exports no adapter named ${JSON.stringify(name)} (only ${factories.map((f) => JSON.stringify(f.name)).join(', ')})`,
    );
  }

  /** What `wsproxy status` lists. */
  list(): AdapterStatus[] {
    return [...this.factories.keys()].map((name) => {
      const version = this.builds.get(name)?.version;
      return { name, module: this.modules.get(name) ?? '', ...(version ? { version } : {}) };
    });
  }

  /** Throws `AdapterMismatchError` when `name` runs another build than the module `key` is. */
  private checkBuild(name: string, key: string): void {
    const loaded = this.builds.get(name);
    // Built in or handed over as an object: nothing to compare a module with.
    if (!loaded) return;
    const requested = buildOf(key);
    if (!sameBuild(loaded, requested)) throw new AdapterMismatchError(name, loaded, requested);
  }

  private load(key: string): Promise<readonly UpstreamAdapterFactory[]> {
    let loading = this.loads.get(key);
    if (!loading) {
      loading = withTimeout(this.importModule(key), ADAPTER_LOAD_TIMEOUT_MS, () => {
        this.logger?.warn({ module: key }, 'adapter module did not finish loading in time');
        return new AdapterLoadError(
          key,
          `it did not finish loading within ${ADAPTER_LOAD_TIMEOUT_MS / 1000} s`,
        );
      }).catch((error: unknown) => {
        // Not kept: a module that was missing or broken may be fixed, and the next open tries again. (Node keeps a
        // module that threw while evaluating in its own cache, so that one fails the same way again.)
        this.loads.delete(key);
        throw error;
      });
      this.loads.set(key, loading);
    }
    return loading;
  }

  private async importModule(key: string): Promise<readonly UpstreamAdapterFactory[]> {
    const target = isAbsolute(key) ? pathToFileURL(key).href : key;
    let exported: Record<string, unknown>;
    try {
      exported = (await import(target)) as Record<string, unknown>;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger?.warn({ module: key, reason }, 'adapter module failed to load');
      throw new AdapterLoadError(key, `importing it failed: ${reason}`, { cause: error });
    }
    const factories = adapterFactoriesOf(exported);
    this.logger?.info({ module: key, adapters: factories.map((f) => f.name) }, 'adapter module loaded');
    return factories;
  }

  private register(key: string, factory: UpstreamAdapterFactory): void {
    this.factories.set(factory.name, factory);
    this.modules.set(factory.name, key);
    this.builds.set(factory.name, buildOf(key));
  }
}
