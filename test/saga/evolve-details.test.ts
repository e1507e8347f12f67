/**
 * What evolve promises beyond the happy path (src/saga/evolve.ts, docs/workflows.md "State and
 * replay", docs/events.md): each title names the promise. Found by mutating the core
 * (docs/testing.md, "Mutation testing").
 */
import { describe, expect, it } from 'vitest';
import { decideTransition, evolve, workflowEventTypes, foldEvents, pendingTimers, stepState, stepStates, stepsChangedBy, type WorkflowEvent } from '../../src/saga/index.js';
import { statusView } from '../../src/saga/status-view.js';
import { Scenario, T0, ctx, diamond } from './spec.js';

function active(s: Scenario) {
  const state = s.state;
  if (state.status === 'idle') throw new Error('not started');
  return state;
}

describe('evolve', () => {
  it('records a timeout as the step\'s last error: retryable, code TIMEOUT, naming how long the attempt had (events.md, StepTimedOut)', () => {
    const s = new Scenario(diamond()).start().timeOut('a');
    expect(stepState(s.state, 'a')?.lastError).toEqual({ message: 'Attempt timed out after 5000 ms', code: 'TIMEOUT', retryable: true });
    expect(active(s).lastError).toEqual({ stepId: 'a', error: { message: 'Attempt timed out after 5000 ms', code: 'TIMEOUT', retryable: true } });
  });

  it('keeps a WorkflowFailed without an error as a last error made of its reason, not retryable', () => {
    const s = new Scenario(diamond({ failureStrategy: 'fail' })).start();
    const failed = { id: 'x', type: 'WorkflowFailed', data: { workflowId: 'wf-1', at: T0 + 5, reason: 'given up by hand' } } as WorkflowEvent;
    const state = evolve(s.state, failed);
    expect(state).toMatchObject({ status: 'failed', endedAt: T0 + 5, lastError: { error: { message: 'given up by hand', retryable: false } } });
  });

  it('never reuses an attempt number: a failure before the call (input mapping) still uses up its attempt (events.md, "The catalogue")', () => {
    const def = { name: 'm', failureStrategy: 'pause' as const, steps: [{ id: 'a', action: 'a', capability: 'x', input: { v: 'input.missing' } }] };
    const s = new Scenario(def).start({});
    expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowPaused' });
    expect(stepState(s.state, 'a')).toMatchObject({ status: 'failed', attempt: 1 });
    s.command({ type: 'retry' });
    expect(s.events.filter((e) => e.type === 'StepFailed').map((e) => e.data.attempt)).toEqual([1, 2]);
  });

  it('never reuses a compensation attempt number either, when its input mapping failed', () => {
    const def = diamond({}, { a: { compensation: { action: 'undo-a', input: { v: '$output.price.value' }, when: 'succeeded' } } });
    const s = new Scenario(def).start().succeed('a').fail('b', false).succeed('c').compensated('c');
    expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowCompensationFailed', data: { failedSteps: ['a'] } });
    expect(stepState(s.state, 'a')?.compensation).toMatchObject({ status: 'failed', attempt: 1 });
    s.command({ type: 'compensate' });
    const attempts = s.events.flatMap((e) => (e.type === 'CompensationFailed' && e.data.stepId === 'a' ? [e.data.attempt] : []));
    expect(attempts).toEqual([1, 2]);
  });

  it('abandons pending retries when compensation starts: no retry timer is left (workflows.md, "Compensation")', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b');
    expect(pendingTimers(s.state).map((t) => t.kind)).toContain('retryDue');
    s.fail('c', false);
    expect(s.state.status).toBe('compensating');
    expect(stepState(s.state, 'b')).toMatchObject({ status: 'abandoned', notBefore: undefined });
    expect(pendingTimers(s.state).filter((t) => t.kind === 'retryDue')).toEqual([]);
  });

  it('abandons a step waiting for an agent when compensation starts', () => {
    const def = diamond({}, { c: { capability: 'nobody' } });
    const s = new Scenario(def, 'wf-1', { candidates: (cap) => (cap === 'nobody' ? [] : [`${cap}-1`]) }).start().succeed('a');
    expect(stepState(s.state, 'c')?.status).toBe('waitingForAgent');
    s.fail('b', false);
    expect(stepState(s.state, 'c')?.status).toBe('abandoned');
    expect(statusView(s.state, T0)?.steps.waitingForAgent).toEqual([]);
  });

  it('folds a stored StepSucceeded whose output does not map, without the mapping (a stored history always folds)', () => {
    const s = new Scenario(diamond({}, { a: { output: { 'results.a': 'price.value' } } })).start();
    const succeeded = { id: 'y', type: 'StepSucceeded', data: { workflowId: 'wf-1', at: T0 + 1, stepId: 'a', attempt: 1, agentId: 'cap-a-1', output: { other: 1 }, durationMs: 1 } } as WorkflowEvent;
    const state = evolve(s.state, succeeded);
    expect(state).toMatchObject({ status: 'running', data: { input: {} } });
    expect(stepState(state, 'a')).toMatchObject({ status: 'succeeded', output: { other: 1 } });
    expect(state.status !== 'idle' && state.settledSteps).toBe(1);
  });

  it('ignores a second WorkflowStarted and a WorkflowAdmitted for a workflow already running, counting their revisions', () => {
    const s = new Scenario(diamond()).start().succeed('a');
    const [started] = s.events;
    if (!started) throw new Error('no start');
    const before = active(s);
    const again = evolve(before, started);
    expect(again).toEqual({ ...before, revision: before.revision + 1 });
    const admitted = evolve(before, { id: 'z', type: 'WorkflowAdmitted', data: { workflowId: 'wf-1', at: T0 } });
    expect(admitted).toEqual({ ...before, revision: before.revision + 1 });
  });

  it('ignores a resume of an attempt that is no longer running (StepResumed, CompensationResumed)', () => {
    const s = new Scenario(diamond()).start().succeed('a');
    const before = active(s);
    const stepResumed = { id: 'r', type: 'StepResumed', data: { workflowId: 'wf-1', at: T0, stepId: 'a', attempt: 1, agentId: 'other', deadline: T0 + 9, idempotencyKey: 'wf-1:a', reason: 'restart' } } as WorkflowEvent;
    expect(stepState(evolve(before, stepResumed), 'a')).toEqual(stepState(before, 'a'));
    const stale = { ...stepResumed, data: { ...stepResumed.data, stepId: 'b', attempt: 2 } } as WorkflowEvent;
    expect(stepState(evolve(before, stale), 'b')).toEqual(stepState(before, 'b'));
    const compensationResumed = { ...stepResumed, type: 'CompensationResumed', data: { ...stepResumed.data, idempotencyKey: 'wf-1:a:compensate' } } as WorkflowEvent;
    expect(stepState(evolve(before, compensationResumed), 'a')).toEqual(stepState(before, 'a'));
  });

  it('moves a compensation in flight to the agent and deadline of its resume', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b', false).succeed('c');
    expect(stepState(s.state, 'c')?.compensation).toMatchObject({ status: 'running', attempt: 1, agentId: 'cap-c-1' });
    const resumed = { id: 'r', type: 'CompensationResumed', data: { workflowId: 'wf-1', at: T0 + 10, stepId: 'c', attempt: 1, agentId: 'cap-c-2', deadline: T0 + 10_000, idempotencyKey: 'wf-1:c:compensate', reason: 'restart' } } as WorkflowEvent;
    expect(stepState(evolve(s.state, resumed), 'c')?.compensation).toMatchObject({ status: 'running', attempt: 1, agentId: 'cap-c-2', deadline: T0 + 10_000 });
  });

  it('counts running, settled and open compensations as the steps change (what completion and the parallelism limit read)', () => {
    const s = new Scenario(diamond()).start();
    expect(active(s)).toMatchObject({ runningSteps: 1, settledSteps: 0, openCompensations: 0 });
    s.succeed('a');
    expect(active(s)).toMatchObject({ runningSteps: 2, settledSteps: 1 });
    s.fail('b');
    expect(active(s)).toMatchObject({ runningSteps: 1, settledSteps: 1 });
    s.fail('c', false);
    expect(active(s)).toMatchObject({ status: 'compensating', runningSteps: 0, openCompensations: 1 });
    s.compensated('a');
    expect(active(s)).toMatchObject({ status: 'compensated', openCompensations: 0, settledSteps: 1 });
  });

  it('gives a new compensation round its status and number, and clears the end (CompensationRetried)', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b', false).succeed('c').compensationFails('c').compensationRetryDue('c').compensationFails('c');
    expect(active(s)).toMatchObject({ status: 'compensationFailed', compensationRound: 1 });
    expect(active(s).endedAt).toBeDefined();
    s.command({ type: 'compensate' });
    expect(active(s)).toMatchObject({ status: 'compensating', compensationRound: 2, endedAt: undefined });
    expect(stepState(s.state, 'c')?.compensation).toMatchObject({ status: 'running', roundStart: 3, attempt: 3 });
  });

  it('keeps the pause round of each pause and resume', () => {
    const s = new Scenario(diamond({ failureStrategy: 'pause' })).start().fail('a', false);
    expect(active(s)).toMatchObject({ status: 'paused', pauseRound: 1 });
    s.command({ type: 'retry' });
    expect(active(s)).toMatchObject({ status: 'running', pauseRound: 1 });
    s.fail('a', false);
    expect(active(s)).toMatchObject({ status: 'paused', pauseRound: 2 });
  });

  it('folds the same events to the same state whichever way they are read (foldEvents from a given state)', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b');
    const half = foldEvents(s.events.slice(0, 3));
    expect(foldEvents(s.events.slice(3), half)).toEqual(s.state);
  });

  it('names the one step each step event changes, and no step for workflow-wide events (stepsChangedBy: what the runtime re-arms timers for)', () => {
    const s = new Scenario(diamond({ failureStrategy: 'pause' }), 'wf-1', { candidates: (cap) => (cap === 'cap-c' ? [] : [`${cap}-1`]) });
    s.start().succeed('a').timeOut('b').retryDue('b');
    s.apply({ kind: 'taskAccepted', stepId: 'b', attempt: 2, agentId: 'cap-b-1', taskId: 't' });
    s.apply({ kind: 'resume', reason: 'restart' });
    s.apply({ kind: 'wake' }, { candidates: (cap) => [`${cap}-1`] });
    s.succeed('b').command({ type: 'cancel' }).succeed('c');
    s.compensated('c').compensationFails('b').compensationRetryDue('b');
    s.apply({ kind: 'resume', reason: 'restart' });
    s.compensated('b').compensated('a');
    // And the rest of the catalogue: pause and resume, a skip and completion, rounds, a resolution, admission, ends.
    const paused = new Scenario(diamond({ failureStrategy: 'pause' }, { c: { optional: true } })).start().succeed('a').fail('c', false).fail('b', false).command({ type: 'retry' }).succeed('b').succeed('d');
    const failedRound = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false).compensationFails('b', false).command({ type: 'compensate' }).compensationFails('b', false).command({ type: 'resolve', note: 'by hand' });
    const compensated = new Scenario(diamond()).start().succeed('a').fail('b', false).succeed('c').compensated('c').compensated('a');
    const queued = new Scenario(diamond());
    queued.apply({ kind: 'command', command: { type: 'start', workflowId: 'wf-1', definition: queued.definition, input: {}, admit: false } });
    queued.apply({ kind: 'admit' });
    queued.command({ type: 'cancel' }).succeed('a').compensated('a');
    const failed = new Scenario(diamond({ failureStrategy: 'fail' })).start().fail('a', false);
    const all = [...s.events, ...failed.events, ...paused.events, ...failedRound.events, ...compensated.events, ...queued.events];
    expect(workflowEventTypes.filter((type) => !all.some((e) => e.type === type))).toEqual([]);
    const types = new Set(s.events.map((e) => e.type));
    expect([...types]).toEqual(expect.arrayContaining(['StepTimedOut', 'StepRetryScheduled', 'StepWaitingForAgent', 'StepResumed', 'StepTaskAccepted', 'CompensationFailed', 'CompensationRetryScheduled', 'CompensationWaitingForAgent', 'CompensationResumed', 'CompensationStarted']));
    for (const event of all) {
      const stepId = (event.data as { stepId?: string }).stepId;
      const perStep = event.type !== 'WorkflowPaused' && stepId !== undefined;
      expect(stepsChangedBy([event]), event.type).toEqual(perStep ? new Set([stepId]) : undefined);
    }
    const perStep = s.events.filter((e) => e.type === 'StepSucceeded' || e.type === 'CompensationScheduled');
    expect(stepsChangedBy(perStep)).toEqual(new Set(perStep.map((e) => (e.data as { stepId: string }).stepId)));
    expect(stepsChangedBy([...perStep, s.events[0] as WorkflowEvent])).toBeUndefined();
    expect(stepsChangedBy([])).toEqual(new Set());
  });

  it('leaves every step as it was for an event naming an unknown step', () => {
    const s = new Scenario(diamond()).start().succeed('a');
    const before = s.state;
    const timedOut = { id: 'g', type: 'StepTimedOut', data: { workflowId: 'wf-1', at: T0, stepId: 'ghost', attempt: 1, agentId: 'x', deadline: T0 } } as WorkflowEvent;
    const succeeded = { id: 'h', type: 'StepSucceeded', data: { workflowId: 'wf-1', at: T0, stepId: 'ghost', attempt: 1, agentId: 'x', output: 1, durationMs: 0 } } as WorkflowEvent;
    for (const event of [timedOut, succeeded]) {
      const after = evolve(before, event);
      expect(stepStates(after)).toEqual(stepStates(before));
      expect(after.revision).toBe(before.revision + 1);
    }
  });

  it('shows the timed-out attempt as failed in the state right after StepTimedOut (decideTransition\'s states)', () => {
    const s = new Scenario(diamond()).start();
    const { events, states } = decideTransition(s.state, { kind: 'timer', timer: { kind: 'stepTimeout', stepId: 'a', attempt: 1 } }, ctx({ now: T0 + 5_000 }));
    expect(events.map((e) => e.type)).toEqual(['StepTimedOut', 'StepRetryScheduled']);
    expect(stepState(states[0] as typeof s.state, 'a')).toMatchObject({ status: 'failed', deadline: undefined });
  });

  it('admits only a queued workflow: a WorkflowAdmitted leaves a paused or compensating one as it is', () => {
    const paused = new Scenario(diamond({ failureStrategy: 'pause' })).start().fail('a', false).state;
    const compensating = new Scenario(diamond()).start().succeed('a').fail('b', false).state;
    for (const state of [paused, compensating]) {
      const after = evolve(state, { id: 'z', type: 'WorkflowAdmitted', data: { workflowId: 'wf-1', at: T0 } });
      expect(after).toEqual({ ...state, revision: state.revision + 1 });
    }
  });

  it('ignores a task report for a step that is not running that attempt on that agent (StepTaskAccepted)', () => {
    const s = new Scenario(diamond()).start().fail('a');
    const report = (attempt: number, agentId: string) => ({ id: 't', type: 'StepTaskAccepted', data: { workflowId: 'wf-1', at: T0, stepId: 'a', attempt, agentId, taskId: 'task-x' } }) as WorkflowEvent;
    // a waits for its retry: no task can be its.
    expect(stepState(evolve(s.state, report(1, 'cap-a-1')), 'a')?.taskId).toBeUndefined();
    s.retryDue('a');
    expect(stepState(s.state, 'a')).toMatchObject({ status: 'running', attempt: 2, agentId: 'cap-a-2' });
    expect(stepState(evolve(s.state, report(1, 'cap-a-2')), 'a')?.taskId).toBeUndefined();
    expect(stepState(evolve(s.state, report(2, 'cap-a-1')), 'a')?.taskId).toBeUndefined();
    expect(stepState(evolve(s.state, report(2, 'cap-a-2')), 'a')?.taskId).toBe('task-x');
  });

  it('ignores a compensation resume for a compensation that answered or for another attempt', () => {
    const s = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false).compensated('b');
    const resume = (attempt: number) => ({ id: 'r', type: 'CompensationResumed', data: { workflowId: 'wf-1', at: T0, stepId: 'b', attempt, agentId: 'elsewhere', deadline: T0 + 1, idempotencyKey: 'wf-1:b:compensate', reason: 'restart' } }) as WorkflowEvent;
    expect(stepState(evolve(s.state, resume(1)), 'b')?.compensation).toEqual(stepState(s.state, 'b')?.compensation);
    const running = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false).compensationFails('b').compensationRetryDue('b');
    expect(stepState(running.state, 'b')?.compensation).toMatchObject({ status: 'running', attempt: 2 });
    expect(stepState(evolve(running.state, resume(1)), 'b')?.compensation).toEqual(stepState(running.state, 'b')?.compensation);
  });

  it('keeps a failed compensation as the workflow\'s last error', () => {
    const s = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false).compensationFails('b');
    expect(active(s).lastError).toEqual({ stepId: 'b', error: { message: 'undo failed', retryable: true } });
  });

  it('folds the same StepSucceeded onto two states into each one\'s own data (evolve is a function of its arguments)', () => {
    const one = new Scenario(diamond()).start({ k: 1 }).succeed('a', { x: 1 });
    const [started] = one.events;
    const succeeded = one.events.find((e) => e.type === 'StepSucceeded');
    if (started?.type !== 'WorkflowStarted' || !succeeded) throw new Error('no history');
    // The same definition object (and so the same output mapping), other data.
    const other = { ...started, data: { ...started.data, input: { k: 2 }, data: { input: { k: 2 } } } };
    const first = evolve(foldEvents(one.events.slice(0, one.events.indexOf(succeeded))), succeeded);
    const second = evolve(foldEvents([other]), succeeded);
    expect(first.status !== 'idle' && first.data).toEqual({ input: { k: 1 }, results: { a: { x: 1 } } });
    expect(second.status !== 'idle' && second.data).toEqual({ input: { k: 2 }, results: { a: { x: 1 } } });
    // The same state and mapping, another output; the same state and output, another step's mapping.
    const before = foldEvents(one.events.slice(0, one.events.indexOf(succeeded)));
    evolve(before, succeeded);
    const otherOutput = evolve(before, { ...succeeded, data: { ...succeeded.data, output: { x: 9 } } });
    expect(otherOutput.status !== 'idle' && otherOutput.data).toEqual({ input: { k: 1 }, results: { a: { x: 9 } } });
    evolve(before, succeeded);
    const otherStep = evolve(before, { ...succeeded, data: { ...succeeded.data, stepId: 'b' } });
    expect(otherStep.status !== 'idle' && otherStep.data).toEqual({ input: { k: 1 }, results: { b: { x: 1 } } });
  });

  it('on a retry, schedules at once a step that waited for an agent that is there now (a resume runs what is due)', () => {
    const def = diamond({ failureStrategy: 'pause' }, { c: { capability: 'late' } });
    const s = new Scenario(def, 'wf-1', { candidates: (cap) => (cap === 'late' ? [] : [`${cap}-1`]) }).start().succeed('a').fail('b', false);
    expect(stepState(s.state, 'c')?.status).toBe('waitingForAgent');
    s.apply({ kind: 'command', command: { type: 'retry' } }, { candidates: (cap) => [`${cap}-1`] });
    expect(s.events.slice(-3)).toMatchObject([
      { type: 'WorkflowResumed', data: { retrySteps: ['b'] } },
      { type: 'StepScheduled', data: { stepId: 'b', attempt: 2 } },
      { type: 'StepScheduled', data: { stepId: 'c', attempt: 1, agentId: 'late-1' } },
    ]);
  });
});
