/**
 * A timer that fires on a stale state must not leave the workflow without its real next timer:
 * this runtime's timeout fires after another process has already failed the attempt and scheduled
 * its retry (news this runtime has not seen yet). Its decision conflicts, it reloads, decides
 * nothing for the stale timer, and must arm the retry it now knows about.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decide } from '../../src/saga/decide.js';
import { toEventData, workflowStream } from '../../src/saga/runtime/index.js';
import { openStore } from '../../src/store/open.js';
import { workflow } from '../../src/workflow/index.js';
import { waitFor } from '../support/wait-for.js';
import { agent, historyOf, holdingLiveEvents, startTestEngine, type TestEngine } from './support.js';

let engine: TestEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

describe('timers after a conflict', () => {
  it('arms the retry another process scheduled when its own stale timeout loses the race', async () => {
    const raw = await openStore('memory:');
    const held = holdingLiveEvents(raw);
    let calls = 0;
    engine = await startTestEngine({
      store: held.store,
      agents: [agent('slow', ['work'], {
        // Attempt 1 never answers in time; attempt 2 succeeds.
        work: (_input, ctx) => (++calls === 1 ? new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({ late: true }))) : { done: true }),
      })],
    });
    const def = workflow('raced').step({ id: 'work', action: 'work', capability: 'work', timeoutMs: 400, retry: { maxAttempts: 3, initialDelayMs: 300, multiplier: 1, maxDelayMs: 300, jitter: 0 } }).build();
    const { workflowId } = await engine.runtime.startWorkflow(def, {});
    held.hold();

    // Another process fails attempt 1 and schedules attempt 2; this runtime does not see it yet.
    const state = await engine.runtime.getState(workflowId);
    const other = decide(state, { kind: 'stepResult', stepId: 'work', attempt: 1, outcome: { ok: false, error: { message: 'upstream 503', retryable: true } } }, { now: Date.now(), random: () => 0.5, candidates: () => ['slow'], deciderId: 'other-process' });
    expect(other.map((e) => e.type)).toEqual(['StepFailed', 'StepRetryScheduled']);
    await raw.append(workflowStream(workflowId), other.map((e) => toEventData(e, { correlationId: workflowId, causationId: 'other' })), { expectedRevision: BigInt(state.revision) });

    // This runtime's timeout for attempt 1 fires on its stale state and loses the append; only then
    // does the held news arrive (and tells it nothing it has not reloaded already).
    await waitFor(() => engine!.runtime.stats().conflicts > 0, { what: "the stale attempt-1 timeout to lose its append (a conflict)" });
    held.release();

    const end = await engine.runtime.waitForEnd(workflowId);
    expect(end.status).toBe('completed');
    const types = (await historyOf(raw, workflowId)).map((e) => e.type);
    expect(types).toEqual(['WorkflowStarted', 'StepScheduled', 'StepFailed', 'StepRetryScheduled', 'StepScheduled', 'StepSucceeded', 'WorkflowCompleted']);
  }, 15_000);
});
