// Flat config: typescript-eslint's recommended rules plus a purity boundary.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules that do I/O, keep time or draw randomness: never imported by the pure core. */
const impureModules = [
  'node:*', 'fs', 'path', 'os', 'child_process', 'net', 'http', 'crypto',
  'better-sqlite3', '@eventstore/db-client', '@grpc/grpc-js', 'pino', 'rxjs', 'commander',
  'cli-progress', '**/store/**', '**/esdb-server/**', '**/agents/**', '**/cli/**', '**/api/**',
  '**/runtime*', '**/projections/runner*',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.cadenza/**', 'coverage/**', '.scratch/**', '.stryker-tmp/**', '.stryker-tmp-*/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The pure core: evolve, decide and the workflow model. No I/O, no clock, no randomness.
    files: ['src/saga/*.ts', 'src/workflow/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: impureModules.map((group) => ({ group: [group], message: 'The pure core does no I/O: pass what it needs in as arguments.' })) }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Time comes in as an argument (the decision context).' },
        { object: 'Math', property: 'random', message: 'Randomness comes in as an argument (the decision context).' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Time comes in as an argument (the decision context).' }],
    },
  },
  {
    // The writer thread's entry: CommonJS, so that tsx's in-thread require hook can load it.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/cli/bin.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The dashboard: browser ESM served as written (src/dashboard, no build step).
    files: ['src/dashboard/**/*.js'],
    languageOptions: { globals: Object.fromEntries(['window', 'document', 'location', 'sessionStorage', 'fetch', 'URL', 'Blob', 'TextDecoderStream', 'AbortController', 'console', 'setTimeout', 'clearTimeout', 'addEventListener', 'removeEventListener'].map((name) => [name, 'readonly'])) },
  },
  {
    // Saga configs and agents in plain JavaScript, as users write them for Node.
    files: ['sagas/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', URL: 'readonly' } },
  },
);
