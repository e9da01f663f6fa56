import { defineConfig } from 'tsup';

export default defineConfig({
  // The cluster layer is an entry of its own: the daemon imports it dynamically, only with `--cluster`.
  entry: ['src/index.ts', 'src/cli.ts', 'src/cluster/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // `daemonEntryPath` uses import.meta.url; the shim gives the CommonJS build the same answer.
  shims: true,
});
