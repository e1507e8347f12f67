// stryker.config.json with the pure core's narrower test set (vitest.mutate.core.config.ts) and
// TypeScript program (tsconfig.mutate.core.json); run from the repository's root, as
// `npm run mutate:core` does. CADENZA_MUTATE_REPORT=<name> writes the reports as
// reports/mutation/<name>.json and .html, so that runs of several modules keep theirs.
import { readFileSync } from 'node:fs';
import process from 'node:process';

const base = JSON.parse(readFileSync('stryker.config.json', 'utf8'));
const report = process.env.CADENZA_MUTATE_REPORT;
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'vitest.mutate.core.config.ts' },
  tsconfigFile: 'tsconfig.mutate.core.json',
  ...(report === undefined
    ? {}
    : { jsonReporter: { fileName: `reports/mutation/${report}.json` }, htmlReporter: { fileName: `reports/mutation/${report}.html` } }),
};
