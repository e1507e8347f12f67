// stryker.config.json with the pure core's narrower test set (vitest.mutate.core.config.ts) and
// TypeScript program (tsconfig.mutate.core.json); run from the repository's root, as
// `npm run mutate:core` does. CADENZA_MUTATE_REPORT=<name> writes the reports as
// reports/mutation/<name>.json and .html, so that runs of several modules keep theirs.
// CADENZA_MUTATE_TYPECHECK=0 leaves the TypeScript checker out: it took four times the CPU of the
// tests per core mutant (the zod-inferred event types), and mutants that would not compile are then
// run like the others (see docs/testing.md for what that does to a score).
import { readFileSync } from 'node:fs';
import process from 'node:process';

const base = JSON.parse(readFileSync('stryker.config.json', 'utf8'));
const report = process.env.CADENZA_MUTATE_REPORT;
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'vitest.mutate.core.config.ts' },
  tsconfigFile: 'tsconfig.mutate.core.json',
  // Runs of several modules at once (each with its own --tempDirName) must not copy each other's sandboxes.
  ignorePatterns: [...base.ignorePatterns, '/.stryker-tmp-*'],
  ...(process.env.CADENZA_MUTATE_TYPECHECK === '0' ? { checkers: [] } : {}),
  ...(report === undefined
    ? {}
    : { jsonReporter: { fileName: `reports/mutation/${report}.json` }, htmlReporter: { fileName: `reports/mutation/${report}.html` } }),
};
