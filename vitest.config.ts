import { defineConfig } from 'vitest/config';

// One root config so `vitest` from the repo root (and editors) see every
// package; each package keeps its own vitest.config.ts for per-package runs.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tools/*'],
  },
});
