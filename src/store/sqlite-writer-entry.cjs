// Entry of the store's writer thread. A worker does not inherit the TypeScript loader of the thread
// that started it: it registers tsx's require hook (in-thread, cheaper to start than the ESM
// loader's hooks thread) before loading the TypeScript module.
require('tsx/cjs/api').register();
require('./sqlite-writer-thread.ts');
