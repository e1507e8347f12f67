/**
 * StepTaskAccepted: a remote agent accepted an attempt as a long-running task. The task id is kept
 * in the step's state so that a re-send after a restart follows the task instead of sending again.
 */
import { describe, expect, it } from 'vitest';
import { inFlightCalls, stepState } from '../../src/saga/index.js';
import { Scenario, T0, ctx, diamond, given } from './spec.js';

const accepted = (stepId: string, taskId: string, agentId = `cap-${stepId}-1`, attempt = 1) => ({ kind: 'taskAccepted' as const, stepId, attempt, agentId, taskId });

describe('taskAccepted', () => {
  it('records the task of the running attempt and hands it to the in-flight call', () => {
    const s = new Scenario(diamond()).start();
    const events = given(s.events).when(accepted('a', 'task-1')).then([{ type: 'StepTaskAccepted', data: { stepId: 'a', attempt: 1, agentId: 'cap-a-1', taskId: 'task-1' } }]);
    s.events.push(...events);
    expect(stepState(s.state, 'a')).toMatchObject({ status: 'running', taskId: 'task-1' });
    expect(inFlightCalls(s.state)).toEqual([expect.objectContaining({ stepId: 'a', attempt: 1, taskId: 'task-1', idempotencyKey: 'wf-1:a' })]);
  });

  it('decides nothing for a repeated report, a stale attempt, another agent or a settled step', () => {
    const s = new Scenario(diamond()).start();
    s.apply(accepted('a', 'task-1'));
    given(s.events).when(accepted('a', 'task-1')).thenNothing();
    given(s.events).when(accepted('a', 'task-9', 'cap-a-1', 2)).thenNothing();
    given(s.events).when(accepted('a', 'task-9', 'someone-else')).thenNothing();
    s.succeed('a');
    given(s.events).when(accepted('a', 'task-9')).thenNothing();
  });

  it('follows the task on a resume to the same agent, and forgets it on a re-send to another agent', () => {
    const s = new Scenario(diamond()).start();
    s.apply(accepted('a', 'task-1'));
    s.apply({ kind: 'resume', reason: 'restart' }, { now: T0 + 1_000 });
    expect(inFlightCalls(s.state)[0]).toMatchObject({ taskId: 'task-1', agentId: 'cap-a-1' });
    const moved = given(s.events).when({ kind: 'resume', reason: 'agent gone' }, ctx({ candidates: () => ['other'] })).then([{ type: 'StepResumed', data: { stepId: 'a', agentId: 'other' } }]);
    s.events.push(...moved);
    expect(inFlightCalls(s.state)[0]?.taskId).toBeUndefined();
  });

  it('starts a new attempt without the previous attempt\'s task', () => {
    const s = new Scenario(diamond()).start();
    s.apply(accepted('a', 'task-1'));
    s.fail('a').retryDue('a');
    expect(stepState(s.state, 'a')).toMatchObject({ status: 'running', attempt: 2 });
    expect(stepState(s.state, 'a')?.taskId).toBeUndefined();
  });
});

describe('a failure that awaits an operator (input-required, auth-required)', () => {
  const needsInput = (s: Scenario, code = 'input-required') =>
    s.apply({ kind: 'stepResult', stepId: 'a', attempt: 1, outcome: { ok: false, error: { message: 'approve the order', code, retryable: false } } });

  it('pauses the workflow at once, whatever its failure strategy, and a retry sends a new attempt under the same key', () => {
    for (const code of ['input-required', 'auth-required']) {
      const s = new Scenario(diamond()).start();
      const events = needsInput(s, code);
      expect(events.map((e) => e.type)).toEqual(['StepFailed', 'WorkflowPaused']);
      expect(s.state.status).toBe('paused');
      s.apply({ kind: 'command', command: { type: 'retry' } });
      expect(stepState(s.state, 'a')).toMatchObject({ status: 'running', attempt: 2, idempotencyKey: 'wf-1:a' });
    }
  });

  it('is not retried even when marked retryable', () => {
    const s = new Scenario(diamond()).start();
    s.apply({ kind: 'stepResult', stepId: 'a', attempt: 1, outcome: { ok: false, error: { message: 'log in', code: 'auth-required', retryable: true } } });
    expect(s.events.map((e) => e.type)).not.toContain('StepRetryScheduled');
    expect(s.state.status).toBe('paused');
  });
});
