/**
 * Draining a runtime: it takes no new work, lets calls in flight finish and stores their results,
 * makes no new call (what it scheduled meanwhile is stored, and the next runtime re-sends it), and
 * stops. Nothing is lost and nothing runs twice.
 */
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { workflow } from '../../src/workflow/index.js';
import { agent, deferred, historyOf, startTestEngine } from './support.js';

describe('drain', () => {
  it('lets the call in flight finish, stores its result, leaves the next step to the next runtime', async () => {
    const store = await openStore('memory:');
    const calls: string[] = [];
    const gate = deferred();
    const handlers = {
      first: async (_input: unknown, ctx: { idempotencyKey: string }) => {
        calls.push(ctx.idempotencyKey);
        await gate.promise;
        return { one: 1 };
      },
      second: (_input: unknown, ctx: { idempotencyKey: string }) => {
        calls.push(ctx.idempotencyKey);
        return { two: 2 };
      },
    };
    const def = workflow('two-steps').step({ id: 'first', action: 'first', capability: 'w' }).step({ id: 'second', action: 'second', capability: 'w', dependsOn: ['first'] }).build();
    const first = await startTestEngine({ store, agents: [agent('worker-a', ['w'], handlers)] });
    const { workflowId } = await first.runtime.startWorkflow(def, {});
    const draining = first.runtime.drain(10_000);
    await expect(first.runtime.startWorkflow(def, {})).rejects.toThrow(/draining/);
    gate.resolve();
    expect(await draining).toBe(true);
    await first.registry.close();

    // The first step's result is stored; the second was scheduled but not called.
    const stored = (await historyOf(store, workflowId)).map((e) => e.type);
    expect(stored).toEqual(['WorkflowStarted', 'StepScheduled', 'StepSucceeded', 'StepScheduled']);
    expect(calls).toEqual([`${workflowId}:first`]);

    const second = await startTestEngine({ store, agents: [agent('worker-b', ['w'], handlers)] });
    expect((await second.runtime.waitForEnd(workflowId)).status).toBe('completed');
    expect(calls).toEqual([`${workflowId}:first`, `${workflowId}:second`]);
    expect((await historyOf(store, workflowId)).map((e) => e.type).slice(4)).toEqual(['StepResumed', 'StepSucceeded', 'WorkflowCompleted']);
    await second.stop();
    await store.close();
  });
});
