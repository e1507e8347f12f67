/**
 * Compensation's details that the scenario specs (decide-failure.test.ts) leave open: what each
 * compensation event carries, a compensation with no agent or an input that cannot be mapped, and
 * the deterministic ids of its events (docs/events.md).
 */
import { describe, expect, it } from 'vitest';
import { eventId } from '../../src/saga/events.js';
import { Scenario, T0, ctx, diamond, given } from './spec.js';

const failed = (stepId: string) => ({ kind: 'stepResult', stepId, attempt: 1, outcome: { ok: false, error: { message: 'rejected', retryable: false } } }) as const;
const allSucceededButD = () => new Scenario(diamond()).start().succeed('a').succeed('b').succeed('c');

describe('compensation events', () => {
  it('names the failed step when a failure started compensation, and no step when a command did', () => {
    const byFailure = allSucceededButD().fail('d', false).events.find((e) => e.type === 'CompensationStarted');
    expect(byFailure?.data).toMatchObject({ cause: 'failure', failedStepId: 'd', toCompensate: ['a', 'b', 'c'] });
    const byCommand = new Scenario(diamond()).start().succeed('a').command({ type: 'compensate', reason: 'operator' }).events.find((e) => e.type === 'CompensationStarted');
    expect(byCommand?.data).toMatchObject({ cause: 'command', reason: 'operator' });
    expect(Object.keys(byCommand?.data ?? {})).not.toContain('failedStepId');
  });

  it('records the compensating agent and how long the compensation took', () => {
    const s = allSucceededButD().fail('d', false);
    s.at(T0 + 250).compensated('c');
    expect(s.events.at(-1)).toMatchObject({ type: 'CompensationSucceeded', data: { stepId: 'c', attempt: 1, agentId: 'cap-c-1', durationMs: 250 } });
    s.at(T0 + 300).compensationFails('b');
    const [failure, retry] = s.events.slice(-2);
    expect(failure).toMatchObject({ type: 'CompensationFailed', data: { stepId: 'b', attempt: 1, agentId: 'cap-b-1', error: { message: 'undo failed', retryable: true } } });
    // The retry waits the compensation's own backoff (100 ms for its first failure) from now.
    expect(retry).toMatchObject({ type: 'CompensationRetryScheduled', data: { stepId: 'b', nextAttempt: 2, delayMs: 100, notBefore: T0 + 400, reason: 'undo failed' } });
  });

  it('gives compensation events the documented deterministic ids, distinct per step and attempt', () => {
    const s = allSucceededButD().fail('d', false).compensationFails('c').compensationFails('b');
    s.compensationRetryDue('c').compensationRetryDue('b');
    const retries = s.events.filter((e) => e.type === 'CompensationRetryScheduled');
    expect(retries.map((e) => e.id)).toEqual([eventId('wf-1', 'CompensationRetryScheduled', 'c', 2), eventId('wf-1', 'CompensationRetryScheduled', 'b', 2)]);
    const scheduled = s.events.filter((e) => e.type === 'CompensationScheduled');
    expect(scheduled.map((e) => [e.data.stepId, e.data.attempt, e.id])).toEqual([
      ['c', 1, eventId('wf-1', 'CompensationScheduled', 'c', 1)],
      ['b', 1, eventId('wf-1', 'CompensationScheduled', 'b', 1)],
      ['c', 2, eventId('wf-1', 'CompensationScheduled', 'c', 2)],
      ['b', 2, eventId('wf-1', 'CompensationScheduled', 'b', 2)],
    ]);
    expect(new Set(s.events.map((e) => e.id)).size).toBe(s.events.length);
  });
});

describe('a compensation that cannot be sent', () => {
  it('with no agent for its capability: waits for one, naming the capability, and neither fails nor ends', () => {
    const events = given(allSucceededButD().events).when(failed('d'), ctx({ candidates: () => [] })).then([
      { type: 'StepFailed' },
      { type: 'CompensationStarted' },
      { type: 'CompensationWaitingForAgent', data: { stepId: 'c', attempt: 1, capability: 'cap-c' } },
      { type: 'CompensationWaitingForAgent', data: { stepId: 'b', attempt: 1, capability: 'cap-b' } },
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('the compensation capability, when given, is the one asked for', () => {
    const withOwn = diamond({}, { c: { compensation: { action: 'undo-c', capability: 'refunds', input: {}, when: 'succeeded' } } });
    const s = new Scenario(withOwn).start().succeed('a').succeed('b').succeed('c').fail('d', false);
    expect(s.events.find((e) => e.type === 'CompensationScheduled' && e.data.stepId === 'c')).toMatchObject({ data: { capability: 'refunds', agentId: 'refunds-1', action: 'undo-c' } });
  });

  it('with an input mapping that fails: a MAPPING_ERROR that is not retried, and the workflow ends compensation-failed', () => {
    const unmappable = diamond({}, { c: { compensation: { action: 'undo-c', input: { orderId: '$output.orderId' }, when: 'succeeded', retry: { maxAttempts: 3, initialDelayMs: 10, multiplier: 1, maxDelayMs: 10, jitter: 0 } } } });
    const s = new Scenario(unmappable).start().succeed('a').succeed('b').succeed('c', { nothing: true });
    given(s.events).when(failed('d')).then([
      { type: 'StepFailed' },
      { type: 'CompensationStarted' },
      { type: 'CompensationFailed', data: { stepId: 'c', attempt: 1, error: { message: 'Compensation input mapping of step "c" failed: Missing path "$output.orderId" (nothing at "$output.orderId")', code: 'MAPPING_ERROR', retryable: false } } },
      { type: 'CompensationScheduled', data: { stepId: 'b' } },
    ]);
    s.fail('d', false).compensated('b');
    expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowCompensationFailed', data: { compensatedSteps: ['b'], failedSteps: ['c'], blockedSteps: ['a'] } });
  });
});
