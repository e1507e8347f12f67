/**
 * docs/cli.md, watch: "a paused workflow is still watched (it waits for `retry` or `compensate`)",
 * then one line (or the final view) for the status it ended in. A workflow that paused on a failed
 * step, watched; an operator then compensates it: the watch ends on `compensated` (exit 4), not on
 * the pause it went through.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sendDirect } from '../../src/operations/commands.js';
import { openStore } from '../../src/store/open.js';
import { validateDefinition } from '../../src/workflow/validate.js';
import { appendDecisions, simulateWorkflow } from '../projections/fixtures/simulate.js';
import { waitFor } from '../support/wait-for.js';
import { cadenzaInProcess } from './in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'cadenza-watch-pause-'));
const storeUri = `sqlite:${join(dir, 'cadenza.db')}`;
const readModels = join(dir, 'readmodels.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const definition = validateDefinition({
  name: 'pauses',
  failureStrategy: 'pause',
  steps: [{ id: 'charge', action: 'charge', capability: 'payments', retry: { maxAttempts: 1 } }],
});

/** Whether `watch` has caught its read model up (it follows the workflow's stream right after). */
function watchCaughtUp(): boolean {
  if (!existsSync(readModels)) return false;
  const db = new Database(readModels, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'projection_checkpoint'").pluck().get() === 1
      && db.prepare("SELECT count(*) FROM projection_checkpoint WHERE projection = 'workflow-status'").pluck().get() === 1;
  } finally {
    db.close();
  }
}

describe('cadenza watch through a pause', () => {
  it('goes on watching a paused workflow and ends with the status it reaches after the operator\'s command', async () => {
    const store = await openStore(storeUri);
    try {
      const paused = simulateWorkflow({ workflowId: 'paused-watch', definition, input: {}, script: () => 'fatal' });
      expect(paused.state.status).toBe('paused');
      await appendDecisions(store, 'paused-watch', paused.decisions);

      const watching = cadenzaInProcess(storeUri, 'watch', 'paused-watch', '--json');
      let watchEnded = false;
      void watching.finally(() => (watchEnded = true));
      await waitFor(watchCaughtUp, { what: 'cadenza watch to catch its read model up before following the paused workflow', timeoutMs: 60_000 });
      expect(watchEnded).toBe(false);

      const compensated = await sendDirect(store, 'paused-watch', { type: 'compensate', reason: 'operator' });
      expect(compensated.map((e) => e.type)).toContain('WorkflowCompensated');
      const watched = await watching;
      expect(watched.code, watched.stderr).toBe(4);
      expect(JSON.parse(watched.stdout)).toMatchObject({ workflowId: 'paused-watch', status: 'compensated' });
      expect(watched.stderr).toMatch(/workflow paused-watch ended compensated/);
    } finally {
      await store.close();
    }
  }, 120_000);
});
