// stryker.config.json with the pure core's narrower test set (vitest.mutate.core.config.ts); run
// from the repository's root, as `npm run mutate:core` does.
import { readFileSync } from 'node:fs';

const base = JSON.parse(readFileSync('stryker.config.json', 'utf8'));
export default { ...base, vitest: { ...base.vitest, configFile: 'vitest.mutate.core.config.ts' } };
