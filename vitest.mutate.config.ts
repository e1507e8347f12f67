/**
 * The tests `npm run mutate` (Stryker, stryker.config.json) runs against each mutant: those that
 * exercise the mutated modules in this process. Tests that run the code in child processes (crash,
 * multi-process, durability) cannot report which mutant they covered, and only slow every run.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/saga/**/*.test.ts', 'test/workflow/**/*.test.ts', 'test/agents/**/*.test.ts', 'test/store/**/*.test.ts', 'test/esdb/contract.test.ts'],
    exclude: ['test/store/crash.test.ts', 'test/store/sqlite-processes.test.ts', 'test/store/durability.test.ts', 'test/store/writer-thread-lifetime.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
