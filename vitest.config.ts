import { defineConfig } from 'vitest/config';

// Tests use real PostgreSQL and Redis but each file creates its own database, so files may run
// in parallel. CI machines have 2 cores: at most 2 forked workers.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
