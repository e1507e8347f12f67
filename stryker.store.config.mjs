// stryker.config.json with the store's narrower test set (vitest.mutate.store.config.ts); run from
// the repository's root, as `npm run mutate:store` does.
import { readFileSync } from 'node:fs';

const base = JSON.parse(readFileSync('stryker.config.json', 'utf8'));
export default { ...base, vitest: { ...base.vitest, configFile: 'vitest.mutate.store.config.ts' } };
