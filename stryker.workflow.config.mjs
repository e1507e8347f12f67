// stryker.config.json with src/workflow's narrower test set (vitest.mutate.workflow.config.ts) and
// its modules (mapping.ts is measured on its own, docs/testing.md); run from the repository's root,
// as `npm run mutate:workflow` does. A `--mutate` on the command line still picks one module.
import { readFileSync } from 'node:fs';

const base = JSON.parse(readFileSync('stryker.config.json', 'utf8'));
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'vitest.mutate.workflow.config.ts' },
  mutate: ['src/workflow/*.ts', '!src/workflow/index.ts', '!src/workflow/mapping.ts'],
  incrementalFile: 'reports/stryker-incremental-workflow.json',
  htmlReporter: { fileName: 'reports/mutation/workflow.html' },
  jsonReporter: { fileName: 'reports/mutation/workflow.json' },
};
