import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites each create their own schema / key prefix, so files may run in parallel,
    // but the machine has 2 cores: keep the fork count small.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
