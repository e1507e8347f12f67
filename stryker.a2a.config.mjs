// stryker.config.json for the A2A transport (src/agents/a2a) with its in-process tests only
// (vitest.mutate.a2a.config.ts); run from the repository's root as
// `npx stryker run stryker.a2a.config.mjs`, one module at a time with `--mutate`. As in stryker.core.config.mjs: CADENZA_MUTATE_REPORT=<name>
// writes reports/mutation/<name>.json and .html, CADENZA_MUTATE_TYPECHECK=0 leaves the TypeScript
// checker out.
import { readFileSync } from 'node:fs';
import process from 'node:process';

const base = JSON.parse(readFileSync('stryker.config.json', 'utf8'));
const report = process.env.CADENZA_MUTATE_REPORT ?? 'a2a';
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'vitest.mutate.a2a.config.ts' },
  mutate: base.mutate.filter((pattern) => pattern.startsWith('src/agents/a2a/')),
  incrementalFile: 'reports/stryker-incremental-a2a.json',
  // Runs of several modules at once (each with its own --tempDirName) must not copy each other's sandboxes.
  ignorePatterns: [...base.ignorePatterns, '/.stryker-tmp-*'],
  ...(process.env.CADENZA_MUTATE_TYPECHECK === '0' ? { checkers: [] } : {}),
  htmlReporter: { fileName: `reports/mutation/${report}.html` },
  jsonReporter: { fileName: `reports/mutation/${report}.json` },
};
