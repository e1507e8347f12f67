/**
 * docs/cli.md, worker: "`--log-level` overrides the config's `logLevel`; `--verbose` means debug",
 * and the shutdown lines "stop requested", "draining" and "worker stopped". A real worker process
 * whose config says `silent`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startWorker, stopWorker, type RunningWorker } from '../worker/support.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-worker-log-'));
const config = join(dir, 'silent.config.mjs');
writeFileSync(config, "export default { definitions: [], logLevel: 'silent' };\n");

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('worker log level', () => {
  it.each([
    ['--log-level info', ['--log-level', 'info']],
    ['--verbose', ['--verbose']],
  ])('%s overrides a config that says silent', async (_name, flags) => {
    let worker: RunningWorker | undefined;
    try {
      // startWorker resolves once the worker logged "worker started" (info): silent would never.
      worker = await startWorker(['--store', 'memory:', 'worker', '--config', config, ...flags]);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      const messages = worker.logs().map((line) => line.msg);
      expect(messages).toEqual(expect.arrayContaining(['worker started', 'stop requested', 'draining', 'worker stopped']));
    } finally {
      await stopWorker(worker);
    }
  }, 60_000);
});
