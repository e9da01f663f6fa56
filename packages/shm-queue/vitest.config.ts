import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    include: ['test/**/*.test.ts'],
    // The load tests start several processes each; on a small machine they are steadier one file at a time.
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
