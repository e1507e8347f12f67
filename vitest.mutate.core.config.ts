/**
 * The tests `npm run mutate:core` runs against each mutant of the pure core (src/saga without the
 * runtime): test/saga only. Those tests drive decide/evolve in this process with no store, no
 * network and no child process; the wider set of vitest.mutate.config.ts (the store, the ESDB
 * contract, the agents) kills no core mutant they miss. Nearly every test covers decide and evolve,
 * so each mutant runs most of them: the files share one module graph (`isolate: false`, importing
 * the core once instead of once per file: 4 s instead of 14 per run) and the fast-check properties
 * run a tenth of their cases (see `propertyRuns` in test/saga/spec.ts).
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.mutate.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/saga/**/*.test.ts'],
    exclude: [],
    isolate: false,
    env: { CADENZA_PROPERTY_RUNS_PERCENT: '10' },
  },
});
