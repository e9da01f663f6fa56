import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureRuntimeDir,
  InsecureRuntimeDirError,
  InvalidArgumentError,
  runtimeDirFor,
  runtimePaths,
} from '@wsproxy/proxy-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

describe('runtime folder', () => {
  let base: string;

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'wsp-rt-'));
  });

  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  it('is chosen from WSPROXY_RUNTIME_DIR, then XDG_RUNTIME_DIR, then a per-user temp folder', () => {
    expect(runtimeDirFor({ WSPROXY_RUNTIME_DIR: '/x/y', XDG_RUNTIME_DIR: '/run/user/1' })).toBe('/x/y');
    expect(runtimeDirFor({ XDG_RUNTIME_DIR: '/run/user/1' })).toBe('/run/user/1/wsproxy');
    expect(runtimeDirFor({})).toBe(join(tmpdir(), `wsproxy-${process.getuid!()}`));
    expect(runtimePaths('prod', '/r')).toEqual({
      dir: '/r',
      socketPath: '/r/prod.sock',
      logPath: '/r/prod.log',
      lockPath: '/r/prod.lock',
    });
  });

  it('is created 0700', () => {
    const dir = join(base, 'fresh');
    ensureRuntimeDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('refuses a folder others can read or write, and a symlink', () => {
    const open = join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o755);
    expect(() => ensureRuntimeDir(open)).toThrow(InsecureRuntimeDirError);
    try {
      ensureRuntimeDir(open);
    } catch (error) {
      expect((error as InsecureRuntimeDirError).code).toBe('WSP_ERR_INSECURE_RUNTIME_DIR');
    }
    const link = join(base, 'link');
    const target = join(base, 'target');
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, link);
    expect(() => ensureRuntimeDir(link)).toThrow(/symbolic link/);
  });

  it('refuses namespaces that are not plain file names', () => {
    for (const bad of ['', '../etc', 'a/b', '.hidden', 'x'.repeat(65)]) {
      expect(() => runtimePaths(bad, base)).toThrow(InvalidArgumentError);
    }
  });
});
