/** Operators re-drive a failed compensation: compensate again retries what failed; resolve records a manual resolution. */
import { describe, expect, it } from 'vitest';
import { CommandRejectedError, stepState } from '../../src/saga/index.js';
import { Scenario, diamond, given } from './spec.js';

/** a and b succeeded, c failed for good; b's compensation fails for good (2 attempts), a's is blocked behind it. */
function compensationFailed(): Scenario {
  const s = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false);
  s.compensationFails('b').compensationRetryDue('b').compensationFails('b');
  expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowCompensationFailed', data: { failedSteps: ['b'], blockedSteps: ['a'] } });
  return s;
}

describe('compensate again after a failed compensation', () => {
  it('gives the failed and blocked compensations a new round, in the usual order, with attempt numbers that go on', () => {
    const s = compensationFailed();
    const events = given(s.events).when({ kind: 'command', command: { type: 'compensate', reason: 'broker back' } }).then([
      { type: 'CompensationRetried', data: { round: 2, reason: 'broker back', retrySteps: ['a', 'b'] } },
      { type: 'CompensationScheduled', data: { stepId: 'b', attempt: 3, idempotencyKey: 'wf-1:b:compensate' } },
    ]);
    s.events.push(...events);
    expect(s.state.status).toBe('compensating');
    // A full budget again: the first failure of the new round is retried.
    s.compensationFails('b');
    expect(s.events.at(-1)).toMatchObject({ type: 'CompensationRetryScheduled', data: { stepId: 'b', nextAttempt: 4 } });
    s.compensationRetryDue('b').compensated('b').compensated('a');
    const end = s.events.at(-1);
    expect(end).toMatchObject({ type: 'WorkflowCompensated', data: { compensatedSteps: ['a', 'b'] } });
    // The round's end has an id of its own (the first round ended with another event id).
    const ends = s.events.filter((e) => e.type === 'WorkflowCompensated' || e.type === 'WorkflowCompensationFailed');
    expect(new Set(ends.map((e) => e.id)).size).toBe(ends.length);
    expect(stepState(s.state, 'b')?.compensation.status).toBe('succeeded');
  });
});

describe('resolve', () => {
  it('records the operator\'s note and what was left undone; the workflow ends resolved', () => {
    const s = compensationFailed();
    const events = given(s.events).when({ kind: 'command', command: { type: 'resolve', note: 'reversed by hand, ticket OPS-12' } }).then([
      { type: 'WorkflowResolved', data: { note: 'reversed by hand, ticket OPS-12', unresolvedSteps: ['a', 'b'] } },
    ]);
    s.events.push(...events);
    expect(s.state.status).toBe('resolved');
    given(s.events).when({ kind: 'command', command: { type: 'compensate' } }).thenRejects(/Cannot compensate: workflow wf-1 is resolved/, CommandRejectedError);
  });

  it('is refused for anything but a failed compensation, and without a note', () => {
    const running = new Scenario(diamond()).start();
    given(running.events).when({ kind: 'command', command: { type: 'resolve', note: 'x' } }).thenRejects(/only a workflow whose compensation failed can be resolved/, CommandRejectedError);
    given(compensationFailed().events).when({ kind: 'command', command: { type: 'resolve', note: '  ' } }).thenRejects(/the note is empty/, CommandRejectedError);
  });
});
