import { describe, expect, it } from 'vitest';
import { backoffDelay, stepState } from '../../src/saga/index.js';
import { validateDefinition } from '../../src/workflow/index.js';
import { Scenario, T0, ctx, diamond, given } from './spec.js';

const failure = (stepId: string, attempt: number, retryable = true) =>
  ({ kind: 'stepResult', stepId, attempt, outcome: { ok: false, error: { message: 'upstream 503', code: 'HTTP_503', retryable } } }) as const;
const timer = (kind: 'stepTimeout' | 'retryDue', stepId: string, attempt: number) => ({ kind: 'timer', timer: { kind, stepId, attempt } }) as const;

describe('when an attempt fails', () => {
  it('records the failure and a durable retry with its not-before time', () => {
    const s = new Scenario(diamond()).start();
    given(s.events).when(failure('a', 1)).then([
      { type: 'StepFailed', data: { stepId: 'a', attempt: 1, agentId: 'cap-a-1', error: { message: 'upstream 503', code: 'HTTP_503', retryable: true } } },
      { type: 'StepRetryScheduled', data: { stepId: 'a', nextAttempt: 2, notBefore: T0 + 100, delayMs: 100, reason: 'upstream 503' } },
    ]);
  });

  it('backs off exponentially between attempts', () => {
    const s = new Scenario(diamond()).start().fail('a').retryDue('a');
    s.at(T0 + 100);
    given(s.events).when(failure('a', 2), ctx({ now: T0 + 100 })).then([
      { type: 'StepFailed', data: { attempt: 2 } },
      { type: 'StepRetryScheduled', data: { nextAttempt: 3, delayMs: 200, notBefore: T0 + 300 } },
    ]);
  });

  it('takes jitter from the context random source and caps the delay', () => {
    const policy = validateDefinition(diamond()).steps[0]?.retry;
    if (!policy) throw new Error('no policy');
    expect(backoffDelay({ ...policy, jitter: 0.5 }, 1, () => 0.5)).toBe(75);
    expect(backoffDelay({ ...policy, jitter: 0.5 }, 1, () => 0)).toBe(100);
    expect(backoffDelay(policy, 10, () => 0.5)).toBe(1_000);
  });

  it('schedules the next attempt when the retry is due, on the next candidate agent', () => {
    const s = new Scenario(diamond()).start().fail('a');
    given(s.events).when(timer('retryDue', 'a', 2), ctx({ now: T0 + 100 })).then([
      { type: 'StepScheduled', data: { stepId: 'a', attempt: 2, agentId: 'cap-a-2', idempotencyKey: 'wf-1:a' } },
    ]);
  });

  it('ignores a retry timer fired early, for a stale attempt, or twice', () => {
    const s = new Scenario(diamond()).start().fail('a');
    given(s.events).when(timer('retryDue', 'a', 2), ctx({ now: T0 + 99 })).thenNothing();
    given(s.events).when(timer('retryDue', 'a', 3), ctx({ now: T0 + 100 })).thenNothing();
    s.retryDue('a');
    given(s.events).when(timer('retryDue', 'a', 2), ctx({ now: T0 + 100 })).thenNothing();
  });

  it('fails for good at once when the error is not retryable', () => {
    const s = new Scenario(diamond({ failureStrategy: 'fail' })).start();
    given(s.events).when(failure('a', 1, false)).then([
      { type: 'StepFailed', data: { attempt: 1 } },
      { type: 'WorkflowFailed', data: { failedStepId: 'a', reason: 'Step "a" failed after 1 attempt(s): upstream 503', error: { code: 'HTTP_503' } } },
    ]);
  });

  it('fails for good when the attempts of the round are used up', () => {
    const s = new Scenario(diamond({ failureStrategy: 'fail' })).start().fail('a').retryDue('a').fail('a').retryDue('a');
    expect(s.attempt('a')).toBe(3);
    given(s.events).when(failure('a', 3)).then([{ type: 'StepFailed', data: { attempt: 3 } }, { type: 'WorkflowFailed', data: { reason: expect.stringContaining('after 3 attempt(s)') } }]);
  });
});

describe('when a step timeout fires', () => {
  it('records the timeout as a failed attempt and schedules a retry', () => {
    const s = new Scenario(diamond()).start();
    given(s.events).when(timer('stepTimeout', 'a', 1), ctx({ now: T0 + 5_000 })).then([
      { type: 'StepTimedOut', data: { stepId: 'a', attempt: 1, agentId: 'cap-a-1', deadline: T0 + 5_000 } },
      { type: 'StepRetryScheduled', data: { stepId: 'a', nextAttempt: 2, reason: 'Attempt 1 timed out after 5000 ms' } },
    ]);
  });

  it('does nothing before the deadline, for another attempt, or after the result', () => {
    const s = new Scenario(diamond()).start();
    given(s.events).when(timer('stepTimeout', 'a', 1), ctx({ now: T0 + 4_999 })).thenNothing();
    given(s.events).when(timer('stepTimeout', 'a', 2), ctx({ now: T0 + 9_999 })).thenNothing();
    s.succeed('a');
    given(s.events).when(timer('stepTimeout', 'a', 1), ctx({ now: T0 + 5_000 })).thenNothing();
  });

  it('keeps the retry timer in the state so a restarted runtime can re-arm it', () => {
    const s = new Scenario(diamond()).start().timeOut('a');
    expect(stepState(s.state, 'a')).toMatchObject({ status: 'retryWaiting', attempt: 1, notBefore: T0 + 5_000 + 100 });
  });
});
