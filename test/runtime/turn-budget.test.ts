/**
 * docs/runtime.md, "A busy runtime leaves the event loop": with in-process agents every await on the
 * decision path can be already resolved, and without a budget the runtime kept the event loop in one
 * turn for seconds (no timer, no socket, no lease renewal ran). Triggers now wait for the next turn
 * once the current one has run for its budget.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { TurnBudget } from '../../src/saga/runtime/turn-budget.js';
import { workflow } from '../../src/workflow/index.js';
import { agent, startTestEngine, type TestEngine } from './support.js';

let engine: TestEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

const twoSteps = workflow('busy')
  .step({ id: 'first', action: 'work', capability: 'work', timeoutMs: 60_000 })
  .step({ id: 'second', action: 'work', capability: 'work', dependsOn: ['first'], timeoutMs: 60_000 })
  .build();

describe('a busy runtime leaves the event loop', () => {
  it('lets the loop turn while it drives thousands of workflows with in-process agents on a sqlite file', async () => {
    // A file, so that commits come back from the writer thread: that is the chain that never left
    // the loop's turn (1,000-2,000 of 2,000-4,000 workflows ended in one turn before the budget).
    const dir = mkdtempSync(join(tmpdir(), 'cadenza-turns-'));
    const store = await openStore(`sqlite:${join(dir, 'store.db')}`);
    engine = await startTestEngine({ store, agents: [agent('worker', ['work'], { work: () => ({ done: true }) })], runtime: { maxInFlight: 200, turnBudgetMs: 5 } });
    const runtime = engine.runtime;
    const workflows = 3_000;
    let ended = 0;
    // Workflows that ended between two turns of the loop (a setImmediate chain marks each turn).
    let endedThisTurn = 0;
    let mostInOneTurn = 0;
    let probing = true;
    const probe = () => {
      mostInOneTurn = Math.max(mostInOneTurn, endedThisTurn);
      endedThisTurn = 0;
      if (probing) setImmediate(probe);
    };
    setImmediate(probe);
    try {
      await Promise.all(
        Array.from({ length: workflows }, async (_, i) => {
          const { workflowId } = await runtime.startWorkflow(twoSteps, {}, { workflowId: `busy-${i}` });
          const state = await runtime.waitForEnd(workflowId);
          expect(state.status).toBe('completed');
          ended++;
          endedThisTurn++;
        }),
      );
    } finally {
      probing = false;
      await engine.stop();
      engine = undefined;
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
    mostInOneTurn = Math.max(mostInOneTurn, endedThisTurn);
    expect(ended).toBe(workflows);
    // With a 5 ms budget a turn ends at most about the workflows one group commit resumes (up to the
    // 200 in flight: 105-153 measured); without a budget, 800-1,104 of the 3,000 ended in one turn.
    expect(mostInOneTurn, `${mostInOneTurn} of ${workflows} workflows ended in one turn of the event loop`).toBeLessThan(400);
  });
});

describe('TurnBudget', () => {
  it('goes on without an await within its budget, then gives every caller the same next turn, and starts a new budget there', async () => {
    let now = 0;
    const budget = new TurnBudget(25, () => now);
    expect(budget.spent()).toBeUndefined();
    now = 24;
    expect(budget.spent()).toBeUndefined();
    let immediateRan = false;
    setImmediate(() => (immediateRan = true));
    now = 25;
    const first = budget.spent();
    expect(first).toBeInstanceOf(Promise);
    expect(budget.spent()).toBe(first);
    await first;
    // It resolved in the loop's check phase: an immediate queued before it has run.
    expect(immediateRan).toBe(true);
    // A new budget from the turn it resolved in.
    expect(budget.spent()).toBeUndefined();
    now = 49;
    expect(budget.spent()).toBeUndefined();
    now = 50;
    expect(budget.spent()).toBeInstanceOf(Promise);
  });
});
