#!/usr/bin/env node
// Entry point of the `cadenza` command, for a checkout and for the installed package alike.
// In a checkout the TypeScript sources sit beside this file: they run through tsx's loader, so the
// command never runs stale compiled output. The published package ships this file and the compiled
// dist/ only (package.json `files`): there it runs the compiled CLI under plain node, no loader.
import { existsSync } from 'node:fs';

const sources = new URL('./main.ts', import.meta.url);
let cli;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(sources.href);
} else {
  cli = await import('../../dist/src/cli/main.js');
}
cli.endQuietlyOnBrokenPipe();
process.exitCode = await cli.main(process.argv);
