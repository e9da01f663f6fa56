import { defineConfig } from 'tsup';

// A private app: ESM only, no declarations; the entries are what people run.
export default defineConfig({
  entry: ['src/strategy.ts', 'src/demo.ts', 'src/quick-start.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
});
