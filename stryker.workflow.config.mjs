// stryker.config.json with src/workflow's narrower test set (vitest.mutate.workflow.config.ts) and
// its modules (mapping.ts is measured on its own, docs/testing.md); run from the repository's root,
// as `npm run mutate:workflow` does. A `--mutate` on the command line still picks one module.
// hash.ts whole, its SHA-256 rounds included: alone, the module took 6 minutes (without the
// checker; most mutants of the rounds fail the first hash compared with node:crypto).
// As in stryker.core.config.mjs: CADENZA_MUTATE_REPORT=<name> writes reports/mutation/<name>.json
// and .html (runs of several modules at once keep theirs), CADENZA_MUTATE_TYPECHECK=0 leaves the
// TypeScript checker out.
import { readFileSync } from 'node:fs';
import process from 'node:process';

const base = JSON.parse(readFileSync('stryker.config.json', 'utf8'));
const report = process.env.CADENZA_MUTATE_REPORT ?? 'workflow';
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'vitest.mutate.workflow.config.ts' },
  mutate: ['src/workflow/*.ts', '!src/workflow/index.ts', '!src/workflow/mapping.ts'],
  incrementalFile: 'reports/stryker-incremental-workflow.json',
  // Runs of several modules at once (each with its own --tempDirName) must not copy each other's sandboxes.
  ignorePatterns: [...base.ignorePatterns, '/.stryker-tmp-*'],
  ...(process.env.CADENZA_MUTATE_TYPECHECK === '0' ? { checkers: [] } : {}),
  htmlReporter: { fileName: `reports/mutation/${report}.html` },
  jsonReporter: { fileName: `reports/mutation/${report}.json` },
};
