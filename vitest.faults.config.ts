import { defineConfig } from 'vitest/config';

// Fault-injection tests (kill -9 loops and the like): slow, run on their own with `npm run test:faults`.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
