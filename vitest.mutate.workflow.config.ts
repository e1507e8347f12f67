/**
 * The tests `npm run mutate:workflow` runs against each mutant of src/workflow: test/workflow only,
 * which builds, validates, hashes and places definitions in this process (no child processes, no
 * store). test/saga exercises the same modules through decide and evolve, but with it the run took
 * over two hours on 2 shared cores (808 mutants): most of definition.ts's and json.ts's mutants are
 * static (schemas built at import) and run every related test.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.mutate.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/workflow/**/*.test.ts'],
    exclude: [...(base.test?.exclude ?? [])],
  },
});
