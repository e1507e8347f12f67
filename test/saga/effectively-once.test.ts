/**
 * Effectively once: idempotency keys name the logical operation, a call in flight at a crash is
 * re-sent under its key, and compensation covers every step whose action may have taken effect.
 */
import { describe, expect, it } from 'vitest';
import { inFlightCalls, pendingTimers, stepState } from '../../src/saga/index.js';
import { Scenario, T0, ctx, diamond, given } from './spec.js';

const attempted = (overrides: Record<string, object> = {}) =>
  diamond({}, Object.fromEntries(['a', 'b', 'c', 'd'].map((id) => [id, { compensation: { action: `undo-${id}`, input: { ref: '$output', was: '$input' }, retry: { maxAttempts: 2, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000, jitter: 0 } }, ...overrides[id] }])));

describe('idempotency keys per logical operation', () => {
  it('gives every attempt of a step the same key, and the attempt number beside it', () => {
    const s = new Scenario(diamond()).start().fail('a').retryDue('a').timeOut('a').retryDue('a');
    const scheduled = s.events.filter((e) => e.type === 'StepScheduled');
    expect(scheduled.map((e) => [e.data.attempt, e.data.idempotencyKey])).toEqual([[1, 'wf-1:a'], [2, 'wf-1:a'], [3, 'wf-1:a']]);
  });

  it('gives a perAttempt step a fresh key per attempt', () => {
    const s = new Scenario(diamond({}, { a: { idempotencyKey: 'perAttempt' } })).start().fail('a').retryDue('a');
    expect(s.events.filter((e) => e.type === 'StepScheduled').map((e) => e.data.idempotencyKey)).toEqual(['wf-1:a:1', 'wf-1:a:2']);
  });

  it('gives every attempt of a compensation the same key', () => {
    const s = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false).compensationFails('b').compensationRetryDue('b');
    const scheduled = s.events.filter((e) => e.type === 'CompensationScheduled' && e.data.stepId === 'b');
    expect(scheduled.map((e) => (e.type === 'CompensationScheduled' ? [e.data.attempt, e.data.idempotencyKey] : []))).toEqual([[1, 'wf-1:b:compensate'], [2, 'wf-1:b:compensate']]);
  });
});

describe('resume after a restart', () => {
  it('re-sends every call in flight under its key, to the same agent, with a new deadline, as the same attempt', () => {
    const s = new Scenario(diamond()).start().succeed('a');
    const later = T0 + 60_000;
    const events = given(s.events).when({ kind: 'resume', reason: 'restart' }, ctx({ now: later })).then([
      { type: 'StepResumed', data: { stepId: 'b', attempt: 1, agentId: 'cap-b-1', idempotencyKey: 'wf-1:b', deadline: later + 5_000, reason: 'restart' } },
      { type: 'StepResumed', data: { stepId: 'c', attempt: 1, agentId: 'cap-c-1', idempotencyKey: 'wf-1:c', deadline: later + 5_000 } },
    ]);
    s.events.push(...events);
    expect(stepState(s.state, 'b')).toMatchObject({ status: 'running', attempt: 1, deadline: later + 5_000 });
    expect(pendingTimers(s.state).filter((t) => t.kind === 'stepTimeout').map((t) => t.dueAt)).toEqual([later + 5_000, later + 5_000]);
    expect(inFlightCalls(s.state).map((c) => [c.stepId, c.attempt, c.idempotencyKey, c.deadline])).toEqual([['b', 1, 'wf-1:b', later + 5_000], ['c', 1, 'wf-1:c', later + 5_000]]);
    // The old deadline no longer times the attempt out; the agent's answer decides.
    s.apply({ kind: 'timer', timer: { kind: 'stepTimeout', stepId: 'b', attempt: 1 } }, { now: T0 + 5_000 });
    expect(s.events.at(-1)?.type).toBe('StepResumed');
    s.succeed('b');
    expect(s.events.at(-1)).toMatchObject({ type: 'StepSucceeded', data: { stepId: 'b', attempt: 1 } });
  });

  it('sends a re-send to another candidate when the first agent is gone, under the same key', () => {
    const s = new Scenario(diamond()).start();
    given(s.events).when({ kind: 'resume', reason: 'restart' }, ctx({ candidates: () => ['other'] })).then([{ type: 'StepResumed', data: { stepId: 'a', agentId: 'other', idempotencyKey: 'wf-1:a' } }]);
  });

  it('re-sends compensations in flight too', () => {
    const s = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false);
    given(s.events).when({ kind: 'resume', reason: 'restart' }).then([{ type: 'CompensationResumed', data: { stepId: 'b', attempt: 1, idempotencyKey: 'wf-1:b:compensate' } }]);
  });

  it('decides nothing when nothing is in flight, and gives a second resume of one attempt new event ids', () => {
    const s = new Scenario(diamond()).start().succeed('a').succeed('b').succeed('c').succeed('d');
    given(s.events).when({ kind: 'resume', reason: 'restart' }).thenNothing();
    const r = new Scenario(diamond()).start();
    r.apply({ kind: 'resume', reason: 'first' });
    r.apply({ kind: 'resume', reason: 'second' });
    const ids = r.events.filter((e) => e.type === 'StepResumed').map((e) => e.id);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });
});

describe('compensation covers what may have happened', () => {
  it('compensates a step that timed out for good, under its key, with its output sources read as null', () => {
    const s = new Scenario(attempted({ c: { retry: { maxAttempts: 1 } } })).start().succeed('a').succeed('b');
    s.timeOut('c');
    expect(s.events.find((e) => e.type === 'CompensationStarted')).toMatchObject({ data: { toCompensate: ['a', 'b', 'c'] } });
    const first = s.events.filter((e) => e.type === 'CompensationScheduled');
    expect(first).toMatchObject([
      { data: { stepId: 'c', compensates: ['wf-1:c'], input: { ref: null, was: { } } } },
      { data: { stepId: 'b', compensates: ['wf-1:b'], input: { ref: {} } } },
    ]);
  });

  it('compensates a step that an agent rejected, since a rejection may follow a partial effect; not one never sent', () => {
    const s = new Scenario(attempted()).start().succeed('a').fail('b', false);
    // b was sent and rejected: compensated. c was running and succeeds while compensation waits; d was never sent.
    s.succeed('c');
    const toCompensate = s.events.find((e) => e.type === 'CompensationStarted');
    expect(toCompensate).toMatchObject({ data: { toCompensate: ['a', 'b', 'c'] } });
    s.compensated('b').compensated('c').compensated('a');
    expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowCompensated', data: { compensatedSteps: ['a', 'b', 'c'] } });
  });

  it('lists every attempt key of a perAttempt step', () => {
    const s = new Scenario(attempted({ b: { idempotencyKey: 'perAttempt', retry: { maxAttempts: 2, initialDelayMs: 10, jitter: 0 } } })).start().succeed('a').succeed('c');
    s.fail('b').retryDue('b').fail('b', false);
    expect(s.events.find((e) => e.type === 'CompensationScheduled' && e.data.stepId === 'b')).toMatchObject({ data: { compensates: ['wf-1:b:1', 'wf-1:b:2'] } });
  });

  it('compensates only succeeded steps when the definition says when: succeeded', () => {
    const s = new Scenario(attempted({ c: { compensation: { action: 'undo-c', when: 'succeeded' } } })).start().succeed('a').succeed('b').fail('c', false);
    expect(s.events.find((e) => e.type === 'CompensationStarted')).toMatchObject({ data: { toCompensate: ['a', 'b'] } });
  });

  it('does not compensate a step whose attempt failed before it was sent (no agent, input mapping)', () => {
    const def = attempted({ b: { input: { x: 'results.a.missing' } } });
    const s = new Scenario(def).start().succeed('a');
    expect(s.events.find((e) => e.type === 'CompensationStarted')).toMatchObject({ data: { toCompensate: ['a'] } });
    expect(stepState(s.state, 'b')?.idempotencyKey).toBeUndefined();
  });
});
