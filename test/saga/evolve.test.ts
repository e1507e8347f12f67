import { describe, expect, it } from 'vitest';
import { decideTransition, evolve, foldEvents, inFlightCalls, initialState, pendingTimers, stepState, stepStates } from '../../src/saga/index.js';
import { Scenario, T0, diamond } from './spec.js';

describe('evolve', () => {
  it('folds a run into per-step status, attempts, outputs and data', () => {
    const s = new Scenario(diamond()).start({ k: 1 }).succeed('a', { x: 1 }).fail('b');
    const state = s.state;
    if (state.status === 'idle') throw new Error('not started');
    expect(state.revision).toBe(s.events.length - 1);
    expect(state.data).toEqual({ input: { k: 1 }, results: { a: { x: 1 } } });
    expect(stepStates(state).map((step) => [step.id, step.status, step.attempt])).toEqual([
      ['a', 'succeeded', 1], ['b', 'retryWaiting', 1], ['c', 'running', 1], ['d', 'pending', 0],
    ]);
    expect(state.lastError).toEqual({ stepId: 'b', error: { message: 'boom', retryable: true } });
  });

  it('never changes the state it was given', () => {
    const s = new Scenario(diamond()).start().succeed('a');
    const before = s.state;
    const snapshot = JSON.stringify(stepStates(before));
    const after = s.events.slice(0, 0).reduce(evolve, before);
    expect(after).toBe(before);
    s.fail('b').succeed('c');
    for (const event of s.events.slice(-3)) evolve(before, event);
    expect(JSON.stringify(stepStates(before))).toBe(snapshot);
  });

  it('gives the state at revision N as the fold of the first N+1 events', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b').succeed('c').retryDue('b').succeed('b').succeed('d');
    let state = initialState();
    s.events.forEach((event, i) => {
      state = evolve(state, event);
      expect(foldEvents(s.events.slice(0, i + 1))).toEqual(state);
    });
    expect(state.status).toBe('completed');
  });

  it('decideTransition returns exactly the state its events fold to, and the state after each of them', () => {
    const s = new Scenario(diamond()).start().succeed('a').succeed('b');
    const before = s.state;
    const { events, state, states } = decideTransition(before, { kind: 'stepResult', stepId: 'c', attempt: 1, outcome: { ok: true, output: 1 } }, { now: T0, random: () => 0, candidates: (c) => [c] });
    expect(events.length).toBeGreaterThan(1);
    expect(state).toEqual(events.reduce(evolve, before));
    // What the runtime's transitions$ shows per event: the fold of the events up to it, not the final state.
    expect(states).toHaveLength(events.length);
    events.forEach((_, i) => expect(states[i]).toEqual(events.slice(0, i + 1).reduce(evolve, before)));
    expect(states[states.length - 1]).toBe(state);
  });

  it('lists pending timers and in-flight calls for a restarted runtime', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b');
    expect(pendingTimers(s.state)).toEqual([
      { kind: 'retryDue', stepId: 'b', attempt: 2, dueAt: T0 + 100 },
      { kind: 'stepTimeout', stepId: 'c', attempt: 1, dueAt: T0 + 5_000 },
    ]);
    expect(inFlightCalls(s.state)).toEqual([
      { kind: 'step', stepId: 'c', attempt: 1, agentId: 'cap-c-1', action: 'do-c', capability: 'cap-c', input: {}, deadline: T0 + 5_000, idempotencyKey: 'wf-1:c' },
    ]);
    s.retryDue('b').fail('b', false).succeed('c');
    expect(inFlightCalls(s.state).map((c) => [c.kind, c.stepId, c.idempotencyKey])).toEqual([['compensation', 'c', 'wf-1:c:compensate']]);
    expect(pendingTimers(s.state)).toEqual([{ kind: 'compensationTimeout', stepId: 'c', attempt: 1, dueAt: T0 + 5_000 }]);
  });

  it('has no timers or calls once terminal', () => {
    const s = new Scenario(diamond({ failureStrategy: 'fail' })).start().fail('a', false);
    expect(s.state.status).toBe('failed');
    expect(pendingTimers(s.state)).toEqual([]);
    expect(inFlightCalls(s.state)).toEqual([]);
  });

  it('ignores events before WorkflowStarted and for unknown steps, counting their revision', () => {
    const s = new Scenario(diamond()).start();
    const scheduled = s.events[1];
    if (!scheduled) throw new Error('no event');
    const idle = evolve(initialState('wf-1'), scheduled);
    expect(idle).toEqual({ status: 'idle', workflowId: 'wf-1', revision: 0 });
    const ghost = { ...scheduled, data: { ...scheduled.data, stepId: 'ghost' } } as typeof scheduled;
    const state = evolve(s.state, ghost);
    expect(state.revision).toBe(s.state.revision + 1);
    expect(stepState(state, 'ghost')).toBeUndefined();
  });
});
