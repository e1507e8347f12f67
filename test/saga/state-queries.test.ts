/**
 * What a restarted runtime reads from a folded state (docs/workflows.md "State and replay",
 * docs/events.md "Timers", docs/runtime.md "Durable timers" and "Waiting for an agent"): the
 * timers, the calls in flight, what waits for an agent. Found by mutating src/saga/state.ts
 * (docs/testing.md, "Mutation testing").
 */
import { describe, expect, it } from 'vitest';
import {
  inFlightCall, inFlightCalls, initialState, isTerminal, pendingTimers, pendingTimersOf, stepActionKeys, stepDefinition, stepState, stepStates, waitsForAgents,
  type ActiveWorkflowState, type WorkflowStatus,
} from '../../src/saga/index.js';
import { Scenario, T0, diamond } from './spec.js';

function active(s: Scenario): ActiveWorkflowState {
  const state = s.state;
  if (state.status === 'idle') throw new Error('not started');
  return state;
}

describe('timers from the state alone (events.md, "Timers")', () => {
  it('lists an agent wait\'s deadline and a compensation retry\'s due time', () => {
    const def = { name: 'w', steps: [{ id: 'a', action: 'a', capability: 'none', scheduleToStartTimeoutMs: 1_500 }, { id: 'b', action: 'b', capability: 'x' }] };
    const s = new Scenario(def, 'wf-1', { candidates: (cap) => (cap === 'none' ? [] : [`${cap}-1`]) }).start();
    expect(pendingTimers(s.state)).toEqual([
      { kind: 'agentWaitTimeout', stepId: 'a', attempt: 1, dueAt: T0 + 1_500 },
      { kind: 'stepTimeout', stepId: 'b', attempt: 1, dueAt: T0 + 30_000 },
    ]);
    const c = new Scenario(diamond()).start().succeed('a').succeed('b').fail('c', false).compensationFails('b');
    expect(pendingTimers(c.state)).toEqual([{ kind: 'compensationRetryDue', stepId: 'b', attempt: 2, dueAt: T0 + 100 }]);
  });

  it('lists no agent-wait timer for a step that waits without a limit', () => {
    const def = { name: 'w', steps: [{ id: 'a', action: 'a', capability: 'none' }] };
    const s = new Scenario(def, 'wf-1', { candidates: () => [] }).start();
    expect(stepState(s.state, 'a')?.status).toBe('waitingForAgent');
    expect(pendingTimers(s.state)).toEqual([]);
  });

  it('gives the timers of the named steps only, passing over unknown ids, and none once idle or ended (pendingTimersOf)', () => {
    const s = new Scenario(diamond()).start().succeed('a').fail('b');
    expect(pendingTimersOf(s.state, ['b', 'ghost'])).toEqual([{ kind: 'retryDue', stepId: 'b', attempt: 2, dueAt: T0 + 100 }]);
    expect(pendingTimersOf(s.state, ['c'])).toEqual([{ kind: 'stepTimeout', stepId: 'c', attempt: 1, dueAt: T0 + 5_000 }]);
    expect(pendingTimersOf(initialState(), ['a'])).toEqual([]);
    expect(pendingTimersOf(new Scenario(diamond()).start().state, ['ghost'])).toEqual([]);
    const failed = new Scenario(diamond({ failureStrategy: 'fail' })).start().succeed('a').fail('b', false);
    expect(stepState(failed.state, 'c')?.status).toBe('running');
    expect(pendingTimersOf(failed.state, ['c'])).toEqual([]);
  });
});

describe('timers and calls of a workflow not started, and agent waits by step (events.md, "Timers")', () => {
  it('lists no timer and no call in flight for a workflow not started', () => {
    expect(pendingTimers(initialState())).toEqual([]);
    expect(pendingTimers(initialState('wf-1'))).toEqual([]);
    expect(inFlightCalls(initialState('wf-1'))).toEqual([]);
  });

  it('lists an agent-wait timer only for a step that waits for an agent, wherever it is in the definition', () => {
    // b has a limit too but waits for a's result, not for an agent: it has no timer yet.
    const def = {
      name: 'w', steps: [
        { id: 'a', action: 'a', capability: 'x', scheduleToStartTimeoutMs: 2_000 },
        { id: 'b', action: 'b', capability: 'x', dependsOn: ['a'], scheduleToStartTimeoutMs: 2_000 },
        { id: 'c', action: 'c', capability: 'none', scheduleToStartTimeoutMs: 1_500 },
      ],
    };
    const s = new Scenario(def, 'wf-1', { candidates: (cap) => (cap === 'none' ? [] : [`${cap}-1`]) }).start();
    expect(pendingTimers(s.state)).toEqual([
      { kind: 'stepTimeout', stepId: 'a', attempt: 1, dueAt: T0 + 30_000 },
      { kind: 'agentWaitTimeout', stepId: 'c', attempt: 1, dueAt: T0 + 1_500 },
    ]);
  });
});

describe('what waits for an agent (runtime.md: the runtime wakes such a workflow)', () => {
  it('is a step or a compensation waiting, while the workflow has not ended', () => {
    const none = { candidates: (cap: string) => (cap === 'late' ? [] : [`${cap}-1`]) };
    expect(waitsForAgents(new Scenario(diamond(), 'wf-1', none).start().state)).toBe(false);
    expect(waitsForAgents(new Scenario(diamond({}, { a: { capability: 'late' } }), 'wf-1', none).start().state)).toBe(true);
    const undo = diamond({}, { a: { compensation: { action: 'undo-a', capability: 'late', when: 'succeeded' } } });
    expect(waitsForAgents(new Scenario(undo, 'wf-1', none).start().succeed('a').fail('b', false).succeed('c').compensated('c').state)).toBe(true);
    expect(waitsForAgents(initialState())).toBe(false);
    const failed = new Scenario(diamond({ failureStrategy: 'fail' }, { c: { capability: 'late' } }), 'wf-1', none).start().succeed('a').fail('b', false);
    expect([failed.state.status, stepState(failed.state, 'c')?.status]).toEqual(['failed', 'waitingForAgent']);
    expect(waitsForAgents(failed.state)).toBe(false);
  });
});

describe('calls in flight and what a compensation undoes', () => {
  it('has no timer and no call once the workflow ended, though a step was still running (events.md, "Terminal events")', () => {
    const failed = new Scenario(diamond({ failureStrategy: 'fail' })).start().succeed('a').fail('b', false);
    expect(stepState(failed.state, 'c')?.status).toBe('running');
    expect(pendingTimers(failed.state)).toEqual([]);
    expect(inFlightCalls(failed.state)).toEqual([]);
  });

  it('re-sends a compensation to its own capability', () => {
    const def = diamond({}, { b: { compensation: { action: 'undo-b', capability: 'undoer', when: 'succeeded' } } });
    const s = new Scenario(def).start().succeed('a').succeed('b').fail('c', false);
    expect(inFlightCalls(s.state)).toEqual([expect.objectContaining({ kind: 'compensation', stepId: 'b', capability: 'undoer', agentId: 'undoer-1', action: 'undo-b', idempotencyKey: 'wf-1:b:compensate', compensates: ['wf-1:b'] })]);
  });

  it('has no call for an unknown step, nor for a step or compensation that is not running', () => {
    const s = active(new Scenario(diamond()).start());
    expect(inFlightCall(s, 'step', 'ghost')).toBeUndefined();
    expect(inFlightCall(s, 'step', 'b')).toBeUndefined();
    expect(inFlightCall(s, 'compensation', 'a')).toBeUndefined();
    expect(inFlightCall(s, 'step', 'a')).toMatchObject({ kind: 'step', stepId: 'a', attempt: 1, agentId: 'cap-a-1', idempotencyKey: 'wf-1:a' });
  });

  it('names nothing to undo for a step never sent, one key per operation, and every attempt\'s key for perAttempt', () => {
    const s = new Scenario(diamond({}, { b: { idempotencyKey: 'perAttempt' } })).start().succeed('a').fail('b').retryDue('b');
    const state = active(s);
    const def = (id: string) => stepDefinition(state, id) ?? (() => { throw new Error(id); })();
    expect(stepActionKeys('wf-1', def('d'), stepState(state, 'd') as never)).toEqual([]);
    expect(stepActionKeys('wf-1', def('a'), stepState(state, 'a') as never)).toEqual(['wf-1:a']);
    expect(stepActionKeys('wf-1', def('b'), stepState(state, 'b') as never)).toEqual(['wf-1:b:1', 'wf-1:b:2']);
    expect(stepDefinition(state, 'ghost')).toBeUndefined();
    expect(def('c').capability).toBe('cap-c');
  });
});

describe('statuses', () => {
  it('calls exactly the six final statuses terminal (events.md, "Terminal events")', () => {
    const all: WorkflowStatus[] = ['idle', 'queued', 'running', 'paused', 'compensating', 'completed', 'failed', 'compensated', 'compensationFailed', 'cancelled', 'resolved'];
    expect(all.filter((status) => isTerminal(status))).toEqual(['completed', 'failed', 'compensated', 'compensationFailed', 'cancelled', 'resolved']);
    expect(() => isTerminal('exploded' as WorkflowStatus)).toThrow('Unknown workflow status exploded');
  });

  it('starts idle at revision -1, with the workflow id when given, and no steps', () => {
    expect(stepStates(initialState())).toEqual([]);
    expect(stepState(initialState(), 'a')).toBeUndefined();
    expect(initialState()).toStrictEqual({ status: 'idle', revision: -1 });
    expect(initialState('wf-7')).toStrictEqual({ status: 'idle', workflowId: 'wf-7', revision: -1 });
  });
});
