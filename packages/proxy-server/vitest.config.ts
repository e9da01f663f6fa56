import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI tests start real daemons; keep files sequential on small machines.
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
