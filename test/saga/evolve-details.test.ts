/**
 * What evolve promises beyond the happy path (src/saga/evolve.ts, docs/workflows.md "State and
 * replay", docs/events.md): each title names the promise. Found by mutating the core
 * (docs/testing.md, "Mutation testing").
 */
import { describe, expect, it } from 'vitest';
import { evolve, foldEvents, pendingTimers, stepState, type WorkflowEvent } from '../../src/saga/index.js';
import { statusView } from '../../src/saga/status-view.js';
import { Scenario, T0, diamond } from './spec.js';

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
});
