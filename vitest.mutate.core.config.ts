/**
 * The tests `npm run mutate:core` runs against each mutant of the pure core (src/saga without the
 * runtime): test/saga only. Those tests drive decide/evolve in this process with no store, no
 * network and no child process, so a module's run takes minutes; the wider set of
 * vitest.mutate.config.ts (the store, the ESDB contract, the agents) kills no core mutant they miss.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.mutate.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/saga/**/*.test.ts'],
    exclude: [],
  },
});
