/**
 * Compensation rules the docs state that the broader specs left loose (found by mutating
 * src/saga/compensation.ts, docs/testing.md "Mutation testing"): each title names the promise
 * (docs/workflows.md "Compensation" and "Commands", docs/events.md "The catalogue").
 */
import { describe, expect, it } from 'vitest';
import { eventId, stepState, type WorkflowEvent } from '../../src/saga/index.js';
import { Scenario, diamond } from './spec.js';

/** a, b, c succeeded and d failed for good: c's compensation succeeds, b's fails for good, a's is blocked behind it. */
function cUndoneBFailed(): Scenario {
  const s = new Scenario(diamond()).start().succeed('a').succeed('b').succeed('c').fail('d', false);
  s.compensated('c').compensationFails('b').compensationRetryDue('b').compensationFails('b');
  expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowCompensationFailed', data: { compensatedSteps: ['c'], failedSteps: ['b'], blockedSteps: ['a'] } });
  return s;
}

const last = (s: Scenario, type: WorkflowEvent['type']) => s.events.filter((e) => e.type === type).at(-1);

describe('compensate again (workflows.md, "Commands": a new round for the failed and blocked compensations)', () => {
  it('lists only the failed and blocked compensations, and runs only them, not one that succeeded', () => {
    const s = cUndoneBFailed().command({ type: 'compensate', reason: 'broker back' });
    expect(last(s, 'CompensationRetried')).toMatchObject({ id: eventId('wf-1', 'CompensationRetried', undefined, 2), data: { round: 2, retrySteps: ['a', 'b'] } });
    expect(s.events.at(-1)).toMatchObject({ type: 'CompensationScheduled', data: { stepId: 'b' } });
    expect(s.events.filter((e) => e.type === 'CompensationScheduled' && e.data.stepId === 'c')).toHaveLength(1);
    expect(stepState(s.state, 'c')?.compensation.status).toBe('succeeded');
  });

  it('ends each round with an event of that round\'s id: the first keyed by nothing, later ones by the round', () => {
    const s = cUndoneBFailed();
    expect(last(s, 'WorkflowCompensationFailed')?.id).toBe(eventId('wf-1', 'WorkflowCompensationFailed'));
    s.command({ type: 'compensate' }).compensationFails('b').compensationRetryDue('b').compensationFails('b');
    expect(last(s, 'WorkflowCompensationFailed')?.id).toBe(eventId('wf-1', 'WorkflowCompensationFailed', undefined, 2));
    s.command({ type: 'compensate' }).compensated('b').compensated('a');
    expect(last(s, 'WorkflowCompensated')).toMatchObject({ id: eventId('wf-1', 'WorkflowCompensated', undefined, 3), data: { compensatedSteps: ['a', 'b', 'c'] } });
  });

  it('resolves leaving only what the engine did not undo (events.md, WorkflowResolved: unresolvedSteps)', () => {
    const s = cUndoneBFailed().command({ type: 'resolve', note: 'b reversed by hand' });
    expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowResolved', data: { note: 'b reversed by hand', unresolvedSteps: ['a', 'b'] } });
  });
});

describe('how compensation ends (events.md, WorkflowCompensationFailed)', () => {
  it('ends compensation-failed when a compensation fails for good with nothing blocked behind it', () => {
    const def = { name: 'pair', steps: [
      { id: 'a', action: 'a', capability: 'x', compensation: { action: 'undo-a', retry: { maxAttempts: 1 } } },
      { id: 'b', action: 'b', capability: 'x', dependsOn: ['a'], retry: { maxAttempts: 1 } },
    ] };
    const s = new Scenario(def).start().succeed('a').fail('b', false).compensationFails('a', false);
    expect(s.events.at(-1)).toMatchObject({ type: 'WorkflowCompensationFailed', data: { compensatedSteps: [], failedSteps: ['a'], blockedSteps: [], lastError: { message: 'undo failed' } } });
    expect(s.state.status).toBe('compensationFailed');
  });
});

describe('a compensation of a step that did not succeed (workflows.md: its $output sources read as null)', () => {
  it('keeps literal and data sources as they are', () => {
    const def = diamond({ initialData: { account: 'acc-1' } }, {
      b: { compensation: { action: 'undo-b', input: { ref: '$output.orderId', fixed: { value: 42 }, account: 'account' } } },
    });
    const s = new Scenario(def).start().succeed('a').timeOut('b').retryDue('b').timeOut('b').retryDue('b').timeOut('b');
    s.succeed('c');
    expect(s.events.find((e) => e.type === 'CompensationScheduled' && e.data.stepId === 'b')).toMatchObject({ data: { stepId: 'b', input: { ref: null, fixed: 42, account: 'acc-1' }, compensates: ['wf-1:b'] } });
  });

  it('records a compensation whose input could not be built without an agent id (events.md, CompensationFailed: agentId?)', () => {
    const def = diamond({}, { c: { compensation: { action: 'undo-c', input: { orderId: '$output.orderId' }, when: 'succeeded' } } });
    const s = new Scenario(def).start().succeed('a').succeed('b').succeed('c', { nothing: true }).fail('d', false);
    const failed = s.events.find((e) => e.type === 'CompensationFailed');
    expect(failed).toMatchObject({ data: { stepId: 'c', error: { code: 'MAPPING_ERROR' } } });
    expect(failed?.data).not.toHaveProperty('agentId');
  });
});
