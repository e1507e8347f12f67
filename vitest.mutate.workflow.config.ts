/**
 * The tests `npm run mutate:workflow` runs against each mutant of src/workflow: test/workflow and the
 * pure core's specs in test/saga, which build, validate and hash definitions in this process (no
 * child processes, no store). The wider set of vitest.mutate.config.ts adds nothing here but time:
 * most of definition.ts's mutants are static (schemas built at import) and run every related test.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.mutate.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/workflow/**/*.test.ts', 'test/saga/**/*.test.ts'],
    exclude: [...(base.test?.exclude ?? [])],
  },
});
