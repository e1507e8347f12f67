/**
 * The tests `npx stryker run stryker.a2a.config.mjs` runs against each mutant of the A2A
 * transport's modules: the A2A tests that run both sides in this process (unit tests, a served
 * agent and scripted peers on loopback sockets). The ones with agents in child processes
 * (lifecycle, remote-workflow, tls) take minutes each and kill nothing the others miss.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.mutate.config.js';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/agents/a2a/**/*.test.ts'],
    exclude: ['test/agents/a2a/lifecycle.test.ts', 'test/agents/a2a/remote-workflow.test.ts', 'test/agents/a2a/tls.test.ts'],
  },
});
