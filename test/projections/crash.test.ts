import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { catchUpProjections } from '../../src/projections/catch-up.js';
import { openReadModelDb } from '../../src/projections/readmodel-db.js';
import { openStore } from '../../src/store/open.js';
import { comparableAuditRow, expectedReadModels, populate, readLog } from './fixtures/populate.js';
import { normalise, storedReadModels } from './fixtures/readmodels.js';
import { mulberry32 } from './fixtures/simulate.js';

const worker = fileURLToPath(new URL('./fixtures/runner-worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cadenza-projection-crash-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the worker; kills it with SIGKILL after `killAfterCommits` commits. Resolves with whether it was killed. */
function runWorker(storePath: string, readModelPath: string, killAfterCommits: number): Promise<'killed' | 'finished'> {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, storePath, readModelPath, '9'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let commits = 0;
  let stderr = '';
  let buffered = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('commit ') && ++commits === killAfterCommits) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve('killed');
      else if (code === 0) resolve('finished');
      else reject(new Error(`runner worker exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

describe('projection runner crashes', () => {
  it('never double-counts or skips when killed with SIGKILL at random points and restarted', async () => {
    const storePath = join(dir, 'store.db');
    const readModelPath = join(dir, 'readmodels.db');
    const store = await openStore(`sqlite:${storePath}`);
    const random = mulberry32(2026);
    let kills = 0;
    for (let round = 1; round <= 6; round++) {
      // New work arrives between crashes, so restarts resume from checkpoints in the middle of the log.
      await populate(store, { workflows: 15, seed: 100 + round });
      const outcome = await runWorker(storePath, readModelPath, 1 + Math.floor(random() * 120));
      if (outcome === 'killed') kills += 1;
    }
    expect(kills).toBeGreaterThanOrEqual(4);

    const db = openReadModelDb(readModelPath);
    await catchUpProjections(store, db);
    const log = await readLog(store);
    const expected = expectedReadModels(log);
    const stored = storedReadModels(db);
    expect(normalise({ ...stored, 'audit-index': stored['audit-index'].map(comparableAuditRow) })).toEqual(
      normalise({ ...expected, 'audit-index': expected['audit-index'].map(comparableAuditRow) }),
    );
    db.close();
    await store.close();
  }, 120_000);
});
