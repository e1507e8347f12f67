/**
 * The tests `npm run mutate:store` runs against each mutant of the sqlite store's write and read
 * paths: test/store only, without the child-process tests (as in vitest.mutate.config.ts). The
 * wider set there (the ESDB contract through the embedded server, the agents, the core) adds little
 * that kills a store mutant and makes a module's run too slow to finish on 2 shared cores.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.mutate.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/store/**/*.test.ts'],
    exclude: [...(base.test?.exclude ?? []), 'test/store/persistent-processes.test.ts'],
  },
});
