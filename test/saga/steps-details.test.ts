/**
 * Step rules the docs state that the broader specs left loose (found by mutating src/saga/steps.ts,
 * docs/testing.md "Mutation testing"): each title names the promise (docs/workflows.md "How a
 * workflow runs", docs/runtime.md "Waiting for an agent", docs/events.md).
 */
import { describe, expect, it } from 'vitest';
import { eventId, stepState, type Trigger } from '../../src/saga/index.js';
import { Scenario, T0, ctx, diamond, given } from './spec.js';

const wake: Trigger = { kind: 'wake' };

describe('nothing new starts once the workflow stopped running (workflows.md, "Failing for good")', () => {
  it('schedules no further root once one root failed the workflow in the same decision', () => {
    const def = {
      name: 'roots', failureStrategy: 'fail' as const,
      steps: [
        { id: 'p', action: 'p', capability: 'x', input: { v: 'input.missing' } },
        { id: 'q', action: 'q', capability: 'x' },
      ],
    };
    given([]).when({ kind: 'command', command: { type: 'start', workflowId: 'wf-1', definition: def, input: {} } }).then([
      { type: 'WorkflowStarted' },
      { type: 'StepFailed', data: { stepId: 'p', attempt: 1, error: { message: 'Input mapping of step "p" failed: Missing path "input.missing" (nothing at "input.missing")', code: 'MAPPING_ERROR', retryable: false } } },
      { type: 'WorkflowFailed', data: { failedStepId: 'p' } },
    ]);
  });

  it('does not schedule a step that waits for an agent while the workflow is paused, when the agent comes', () => {
    const def = diamond({ failureStrategy: 'pause' }, { c: { capability: 'late' } });
    const noLate = { candidates: (cap: string) => (cap === 'late' ? [] : [`${cap}-1`]) };
    const s = new Scenario(def, 'wf-1', noLate).start().succeed('a').fail('b', false);
    expect(s.state.status).toBe('paused');
    expect(stepState(s.state, 'c')?.status).toBe('waitingForAgent');
    given(s.events).when(wake).thenNothing();
  });
});

describe('waiting for an agent (runtime.md, "Waiting for an agent")', () => {
  it('schedules a compensation that waited for an agent once one is there, under the compensation\'s capability', () => {
    const def = diamond({}, { a: { compensation: { action: 'undo-a', capability: 'undoer', when: 'succeeded' } } });
    const s = new Scenario(def, 'wf-1', { candidates: (cap) => (cap === 'undoer' ? [] : [`${cap}-1`]) }).start().succeed('a').fail('b', false).succeed('c').compensated('c');
    expect(s.events.at(-1)).toMatchObject({ type: 'CompensationWaitingForAgent', data: { stepId: 'a', attempt: 1, capability: 'undoer' } });
    given(s.events).when(wake, ctx({ candidates: (cap) => (cap === 'undoer' ? [] : [`${cap}-1`]) })).thenNothing();
    // Only the compensation's own capability has an agent now: that is the one a wake asks about.
    given(s.events).when(wake, ctx({ candidates: (cap) => (cap === 'undoer' ? ['undoer-1'] : []) })).then([
      { type: 'CompensationScheduled', data: { stepId: 'a', attempt: 1, agentId: 'undoer-1', capability: 'undoer', action: 'undo-a' } },
    ]);
  });

  it('keeps a step that waits for an agent waiting while the workflow is at its parallelism limit, and schedules it on a wake once a slot is free', () => {
    const def = { name: 'lim', limits: { maxParallelSteps: 1 }, steps: [{ id: 'p', action: 'p', capability: 'late' }, { id: 'q', action: 'q', capability: 'x' }] };
    const s = new Scenario(def, 'wf-1', { candidates: (cap) => (cap === 'late' ? [] : [`${cap}-1`]) }).start();
    expect(s.types()).toEqual(['WorkflowStarted', 'StepWaitingForAgent', 'StepScheduled']);
    given(s.events).when(wake).thenNothing();
    s.succeed('q');
    given(s.events).when(wake).then([{ type: 'StepScheduled', data: { stepId: 'p', attempt: 1, agentId: 'late-1' } }]);
  });

  it('records a step that failed for want of an agent without an agent id (events.md, StepFailed)', () => {
    const def = { name: 'w', failureStrategy: 'fail' as const, steps: [{ id: 'a', action: 'a', capability: 'x', scheduleToStartTimeoutMs: 1_000 }] };
    const s = new Scenario(def, 'wf-1', { candidates: () => [] }).start();
    const [failed] = given(s.events).when({ kind: 'timer', timer: { kind: 'agentWaitTimeout', stepId: 'a', attempt: 1 } }, ctx({ now: T0 + 1_000, candidates: () => [] })).then([{ type: 'StepFailed' }, { type: 'WorkflowFailed' }]);
    expect(failed?.data).not.toHaveProperty('agentId');
  });
});

describe('scheduling (workflows.md, "Scheduling": a step is scheduled in the decision in which its last dependency settles)', () => {
  it('schedules the dependents of several steps skipped in one decision, in definition order', () => {
    const optionalUnmappable = (id: string) => ({ id, action: id, capability: 'x', dependsOn: ['p'], optional: true, input: { v: 'input.missing' } });
    const def = {
      name: 'fan', steps: [
        { id: 'p', action: 'p', capability: 'x' }, optionalUnmappable('q1'), optionalUnmappable('q2'),
        { id: 'r1', action: 'r1', capability: 'x', dependsOn: ['q2'] }, { id: 'r2', action: 'r2', capability: 'x', dependsOn: ['q1'] },
      ],
    };
    const s = new Scenario(def).start();
    given(s.events).when({ kind: 'stepResult', stepId: 'p', attempt: 1, outcome: { ok: true, output: {} } }).then([
      { type: 'StepSucceeded', data: { stepId: 'p' } },
      { type: 'StepFailed', data: { stepId: 'q1', error: { code: 'MAPPING_ERROR' } } },
      { type: 'StepSkipped', data: { stepId: 'q1' } },
      { type: 'StepFailed', data: { stepId: 'q2', error: { code: 'MAPPING_ERROR' } } },
      { type: 'StepSkipped', data: { stepId: 'q2' } },
      { type: 'StepScheduled', data: { stepId: 'r1' } },
      { type: 'StepScheduled', data: { stepId: 'r2' } },
    ]);
  });
});

describe('retries (workflows.md, "Retries" and "Timeouts")', () => {
  it('fails the workflow with the timeout as its error when the last attempt times out', () => {
    const s = new Scenario(diamond({ failureStrategy: 'fail' }, { a: { retry: { maxAttempts: 1 } } })).start().timeOut('a');
    expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowFailed', data: { failedStepId: 'a', error: { message: 'Attempt 1 timed out after 5000 ms', code: 'TIMEOUT', retryable: true } } });
  });

  it('runs a retry that is due exactly when a slot frees', () => {
    const wide = { name: 'wide', limits: { maxParallelSteps: 2 }, steps: ['p', 'q', 'r'].map((id) => ({ id, action: id, capability: 'x', retry: { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000, jitter: 0 } })) };
    const s = new Scenario(wide).start().fail('p');
    s.at(T0 + 100).succeed('q');
    expect(s.events.at(-1)).toMatchObject({ type: 'StepScheduled', data: { stepId: 'p', attempt: 2 } });
  });

  it('gives a timed-out attempt\'s retry the timeout as its reason', () => {
    const s = new Scenario(diamond()).start().timeOut('a');
    expect(s.events.slice(-2)).toMatchObject([
      { type: 'StepTimedOut', data: { stepId: 'a', attempt: 1, agentId: 'cap-a-1', deadline: T0 + 5_000 } },
      { type: 'StepRetryScheduled', data: { stepId: 'a', nextAttempt: 2, reason: 'Attempt 1 timed out after 5000 ms' } },
    ]);
  });

  it('records the attempt\'s deadline on a timeout whose timer fires late (events.md, StepTimedOut: "at or after its deadline")', () => {
    const s = new Scenario(diamond()).start();
    const [timedOut] = given(s.events).when({ kind: 'timer', timer: { kind: 'stepTimeout', stepId: 'a', attempt: 1 } }, ctx({ now: T0 + 9_000 })).then([{ type: 'StepTimedOut' }, { type: 'StepRetryScheduled' }]);
    expect(timedOut?.data).toMatchObject({ at: T0 + 9_000, deadline: T0 + 5_000 });
  });

  it('fails a step whose output its mapping cannot read, naming the step and the path', () => {
    const s = new Scenario(diamond({ failureStrategy: 'fail' }, { a: { output: { 'results.a': 'price.value' } } })).start();
    s.succeed('a', { price: 3 });
    expect(s.events.slice(-2)).toMatchObject([
      { type: 'StepFailed', data: { stepId: 'a', agentId: 'cap-a-1', error: { message: 'Output mapping of step "a" failed: Step output has no "price.value" (mapped to "results.a")', code: 'MAPPING_ERROR', retryable: false } } },
      { type: 'WorkflowFailed' },
    ]);
  });
});

describe('event ids: attempt for step events, the round for pauses (events.md, "What every event carries")', () => {
  it('keys a retry by the attempt it schedules', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b');
    const retry = s.events.at(-1);
    expect(retry?.type).toBe('StepRetryScheduled');
    expect(retry?.id).toBe(eventId('wf-1', 'StepRetryScheduled', 'b', 2));
  });

  it('keys a failed attempt and a skip by the step and the attempt', () => {
    const s = new Scenario(diamond({}, { a: { optional: true } })).start().fail('a', false);
    expect(s.events.filter((e) => e.type === 'StepFailed' || e.type === 'StepSkipped').map((e) => [e.type, e.id])).toEqual([
      ['StepFailed', eventId('wf-1', 'StepFailed', 'a', 1)],
      ['StepSkipped', eventId('wf-1', 'StepSkipped', 'a', 1)],
    ]);
  });

  it('keys a pause by its round, whether a failure strategy or an operator wait paused it', () => {
    const paused = new Scenario(diamond({ failureStrategy: 'pause' })).start().fail('a', false);
    expect(paused.events.at(-1)).toMatchObject({ id: eventId('wf-1', 'WorkflowPaused', undefined, 1), type: 'WorkflowPaused', data: { round: 1, stepId: 'a' } });
    const waiting = new Scenario(diamond()).start();
    waiting.apply({ kind: 'stepResult', stepId: 'a', attempt: 1, outcome: { ok: false, error: { message: 'approve the order', code: 'input-required', retryable: false } } });
    expect(waiting.events.at(-1)).toStrictEqual({
      id: eventId('wf-1', 'WorkflowPaused', undefined, 1),
      type: 'WorkflowPaused',
      data: { workflowId: 'wf-1', at: T0, round: 1, stepId: 'a', reason: 'Step "a" awaits an operator (input-required): approve the order' },
    });
    waiting.command({ type: 'retry' }).apply({ kind: 'stepResult', stepId: 'a', attempt: 2, outcome: { ok: false, error: { message: 'log in', code: 'auth-required', retryable: false } } });
    expect(waiting.events.at(-1)).toMatchObject({ id: eventId('wf-1', 'WorkflowPaused', undefined, 2), data: { round: 2 } });
  });
});
