import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // src/native.ts finds the addon through import.meta.url; shims make that work in the CJS build too.
  shims: true,
});
