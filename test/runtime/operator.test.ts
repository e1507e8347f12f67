/**
 * Operator commands on a running engine: a compensation that failed for good is compensated again
 * or resolved, and a command appended by another process (the CLI, with no runtime) is carried on by
 * the workflow's owner at once, not at the next timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sendDirect } from '../../src/operations/commands.js';
import { historyOf, shop, startTestEngine, type TestEngine } from './support.js';

let engine: TestEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

/** A shop workflow whose release failed for good while the desk was down; the desk is back now. */
async function compensationFailedThenDeskBack(): Promise<{ workflowId: string; released: string[]; started: TestEngine }> {
  const desk = { down: true };
  const released: string[] = [];
  const { definition, agents } = shop(desk, released);
  const started = await startTestEngine({ agents });
  engine = started;
  const { workflowId } = await started.runtime.startWorkflow(definition, {});
  expect((await started.runtime.waitForEnd(workflowId)).status).toBe('compensationFailed');
  desk.down = false;
  return { workflowId, released, started };
}

describe('operator commands', () => {
  it('compensates again after a failed compensation, and the rollback completes', async () => {
    const { workflowId, released, started } = await compensationFailedThenDeskBack();
    await started.runtime.compensate(workflowId, 'desk back');
    expect((await started.runtime.waitForEnd(workflowId)).status).toBe('compensated');
    expect(released).toEqual([`${workflowId}:reserve:compensate`]);
    const types = (await historyOf(started.store, workflowId)).map((e) => e.type);
    expect(types.slice(-5)).toEqual(['WorkflowCompensationFailed', 'CompensationRetried', 'CompensationScheduled', 'CompensationSucceeded', 'WorkflowCompensated']);
  });

  it('resolves a failed compensation with a note: an event, and the workflow ends resolved', async () => {
    const { definition, agents } = shop({ down: true }, []);
    engine = await startTestEngine({ agents });
    const { workflowId } = await engine.runtime.startWorkflow(definition, {});
    expect((await engine.runtime.waitForEnd(workflowId)).status).toBe('compensationFailed');
    await engine.runtime.resolve(workflowId, 'released by hand, OPS-7');
    expect((await engine.runtime.getState(workflowId)).status).toBe('resolved');
    const last = (await historyOf(engine.store, workflowId)).at(-1);
    expect(last).toMatchObject({ type: 'WorkflowResolved', data: { note: 'released by hand, OPS-7', unresolvedSteps: ['reserve'] } });
  });

  it('carries on a compensate that another process appended, without waiting for a timeout', async () => {
    const { workflowId, released, started } = await compensationFailedThenDeskBack();
    // As the CLI does: decided and appended with no runtime and no agents.
    const appended = await sendDirect(started.store, workflowId, { type: 'compensate', reason: 'from the CLI' });
    expect(appended.map((e) => e.type)).toEqual(['CompensationRetried', 'CompensationWaitingForAgent']);
    // Nothing times out here (the waiting compensation has no timer): only the owner's wake on the
    // append can finish it.
    const end = await Promise.race([
      started.runtime.waitForEnd(workflowId),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the owner did not carry on the appended compensate within 10 s')), 10_000).unref()),
    ]);
    expect(end.status).toBe('compensated');
    expect(released).toEqual([`${workflowId}:reserve:compensate`]);
  });
});
