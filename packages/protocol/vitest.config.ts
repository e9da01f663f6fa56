import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    include: ['test/**/*.test.ts'],
    // Property and fuzz tests run thousands of cases; the machine is shared, so give them room (no timing asserts).
    testTimeout: 60_000,
  },
});
