// Entry of the store's writer thread. A worker does not inherit the loader of the thread that
// started it. From the sources (a checkout) it registers tsx's require hook (in-thread, cheaper to
// start than the ESM loader's hooks thread) and loads the TypeScript module; in the build (dist/,
// what the package ships) the compiled module sits beside this file and plain node loads it.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const source = join(__dirname, 'sqlite-writer-thread.ts');
if (existsSync(source)) {
  require('tsx/cjs/api').register();
  require(source);
} else {
  import('./sqlite-writer-thread.js');
}
