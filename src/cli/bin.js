#!/usr/bin/env node
// Entry point of the `cadenza` command. The CLI is TypeScript run through tsx's loader, so
// `npm install` leaves a working command with no build step and no stale compiled output.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
const code = await main(process.argv);
process.exitCode = code;
