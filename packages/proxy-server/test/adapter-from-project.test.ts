// `wsproxy start --adapter <package>` looks for a package the daemon's own installation cannot see in the project
// the command runs in — and only there: a node_modules further up (where another user could plant one, e.g.
// /tmp/node_modules) is never used. Real CLI processes, real files.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { daemonEntryPath } from '@wsproxy/proxy-server';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const top = mkdtempSync(join(tmpdir(), 'wsp-adapter-project-'));
chmodSync(top, 0o700);
const runtimeDir = join(top, 'runtime');

afterAll(() => rmSync(top, { recursive: true, force: true }));

/** A package whose import leaves a marker file, so the test knows whether it ever ran. */
function plantPackage(nodeModules: string, name: string, marker: string): void {
  const dir = join(nodeModules, ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, type: 'module', exports: './index.js' }));
  writeFileSync(
    join(dir, 'index.js'),
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default { name: 'planted', create: () => ({ onUpstreamFrame() {} }) };\n`,
  );
}

async function start(cwd: string, module: string): Promise<{ code: number; stderr: string }> {
  try {
    // A daemon that loads the adapter runs until stopped; one that cannot exits at once. Either way, bounded.
    await run(
      process.execPath,
      [daemonEntryPath, 'start', '--runtime-dir', runtimeDir, '--namespace', 'p', '--adapter', module],
      { cwd, timeout: 10_000 },
    );
    return { code: 0, stderr: '' };
  } catch (error) {
    const failure = error as { code: number | null; stderr: string };
    return { code: failure.code ?? -1, stderr: failure.stderr };
  }
}

it('never loads a package planted in a node_modules above the project', { timeout: 20_000 }, async () => {
  const marker = join(top, 'planted-ran');
  plantPackage(join(top, 'node_modules'), '@evil/planted', marker);
  const project = join(top, 'project');
  mkdirSync(join(project, 'src'), { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'project', private: true }));

  const { code, stderr } = await start(join(project, 'src'), '@evil/planted');
  expect(code).not.toBe(0);
  expect(stderr).toContain('WSP_ERR_ADAPTER_LOAD_FAILED');
  expect(existsSync(marker)).toBe(false);
});

it("loads a package from the project's own node_modules", { timeout: 20_000 }, async () => {
  const marker = join(top, 'own-ran');
  const project = join(top, 'own');
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'own', private: true }));
  plantPackage(join(project, 'node_modules'), '@mine/adapter', marker);
  // The adapter loads; the daemon then starts and serves, so stop it once the marker says the module ran.
  const starting = start(project, '@mine/adapter');
  for (const deadline = Date.now() + 8_000; !existsSync(marker) && Date.now() < deadline; )
    await new Promise((resolve) => setTimeout(resolve, 20));
  expect(existsSync(marker)).toBe(true);
  await run(process.execPath, [daemonEntryPath, 'stop', '--runtime-dir', runtimeDir, '--namespace', 'p']);
  expect((await starting).code).toBe(0);
});
