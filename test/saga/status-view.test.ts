/**
 * The status view (`cadenza status`, `GET /workflows/{id}`; docs/cli.md "status", runtime.md
 * "Waiting for an agent"): every field the docs list, computed by hand from small histories.
 */
import { describe, expect, it } from 'vitest';
import { initialState } from '../../src/saga/index.js';
import { statusView } from '../../src/saga/status-view.js';
import { Scenario, T0, diamond } from './spec.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe('statusView', () => {
  it('has no view of a workflow not started', () => {
    expect(statusView(initialState('wf-1'), T0)).toBeUndefined();
  });

  it('shows a running workflow: progress as settled of all steps, the counts, the running steps, elapsed to now, the last error, each step', () => {
    const s = new Scenario(diamond()).start().succeed('a', { x: 1 }).fail('b', true, 'flaky');
    const state = s.state;
    const hash = state.status === 'idle' ? '' : state.definitionHash;
    expect(statusView(state, T0 + 2_500)).toStrictEqual({
      workflowId: 'wf-1',
      name: 'diamond',
      definitionHash: hash,
      status: 'running',
      revision: s.events.length - 1,
      progress: 25,
      steps: { total: 4, succeeded: 1, failed: 0, skipped: 0, running: ['c'], waitingForAgent: [] },
      startedAt: iso(T0),
      elapsedMs: 2_500,
      lastError: { stepId: 'b', message: 'flaky' },
      stepDetails: [
        { id: 'a', status: 'succeeded', attempts: 1, agentId: 'cap-a-1' },
        { id: 'b', status: 'retryWaiting', attempts: 1, agentId: 'cap-b-1', lastError: 'flaky' },
        { id: 'c', status: 'running', attempts: 1, agentId: 'cap-c-1' },
        { id: 'd', status: 'pending', attempts: 0 },
      ],
    });
  });

  it('counts skipped steps as settled and failed steps as failed, rounding progress to a whole percent', () => {
    const def = {
      name: 'three', failureStrategy: 'fail' as const,
      steps: [
        { id: 'p', action: 'p', capability: 'x', optional: true, retry: { maxAttempts: 1 } },
        { id: 'q', action: 'q', capability: 'x', retry: { maxAttempts: 1 } },
        { id: 'r', action: 'r', capability: 'x', retry: { maxAttempts: 1 } },
      ],
    };
    const s = new Scenario(def).start();
    s.apply({ kind: 'stepResult', stepId: 'p', attempt: 1, outcome: { ok: false, error: { message: 'no', code: 'E_P', retryable: false } } });
    s.apply({ kind: 'stepResult', stepId: 'q', attempt: 1, outcome: { ok: false, error: { message: 'broken', code: 'E_Q', retryable: false } } });
    const view = statusView(s.state, T0 + 60_000);
    expect(view?.status).toBe('failed');
    // 1 settled (skipped p) of 3: 33.3% shown as 33.
    expect(view?.progress).toBe(33);
    expect(view?.steps).toStrictEqual({ total: 3, succeeded: 0, failed: 1, skipped: 1, running: ['r'], waitingForAgent: [] });
    expect(view?.lastError).toStrictEqual({ stepId: 'q', message: 'broken', code: 'E_Q' });
    // Ended: elapsed is to the end, not to now.
    expect(view?.endedAt).toBe(iso(T0));
    expect(view?.elapsedMs).toBe(0);
  });

  it('measures a finished workflow from its start to its end, whatever the time now', () => {
    const def = { name: 'one', steps: [{ id: 'a', action: 'a', capability: 'x' }] };
    const s = new Scenario(def).start();
    s.at(T0 + 1_234).succeed('a');
    const view = statusView(s.state, T0 + 99_000);
    expect(view).toMatchObject({ status: 'completed', progress: 100, startedAt: iso(T0), endedAt: iso(T0 + 1_234), elapsedMs: 1_234 });
    expect(view).not.toHaveProperty('lastError');
    expect(view).not.toHaveProperty('compensation');
  });

  it('shows compensation: cause, reason, the steps to compensate, those compensated and those failed, and each step\'s compensation status', () => {
    // c is still running when the operator compensates: it drains, then b and c are compensated (in parallel), then a.
    const s = new Scenario(diamond()).start().succeed('a').succeed('b').command({ type: 'compensate', reason: 'wrong order' }).succeed('c');
    s.compensated('b').compensationFails('c', false);
    const view = statusView(s.state, T0);
    expect(view?.status).toBe('compensationFailed');
    expect(view?.compensation).toStrictEqual({ cause: 'command', reason: 'wrong order', toCompensate: 3, compensated: ['b'], failed: ['c'] });
    expect(view?.stepDetails.map((step) => [step.id, step.compensation])).toEqual([['a', undefined], ['b', 'succeeded'], ['c', 'failed'], ['d', undefined]]);
    expect(view?.stepDetails[0]).not.toHaveProperty('compensation');
  });

  it('counts only succeeded steps that have a compensation as to compensate', () => {
    const s = new Scenario(diamond({}, { b: { compensation: undefined } })).start().succeed('a').succeed('b').command({ type: 'cancel' });
    // a and b succeeded, c is running; b has no compensation.
    expect(statusView(s.state, T0)?.compensation?.toCompensate).toBe(1);
  });

  it('lists the steps and the compensations waiting for an agent (runtime.md, "Waiting for an agent")', () => {
    const def = { name: 'w', steps: [{ id: 'a', action: 'a', capability: 'x' }, { id: 'b', action: 'b', capability: 'y' }] };
    const s = new Scenario(def, 'wf-1', { candidates: (c) => (c === 'y' ? [] : ['x-1']) }).start();
    expect(statusView(s.state, T0)?.steps).toMatchObject({ running: ['a'], waitingForAgent: ['b'] });

    const undo = diamond({}, { a: { compensation: { action: 'undo-a', capability: 'gone', when: 'succeeded' } } });
    const c = new Scenario(undo, 'wf-2', { candidates: (cap) => (cap === 'gone' ? [] : [`${cap}-1`]) }).start().succeed('a').command({ type: 'cancel' });
    c.succeed('b').succeed('c').compensated('b').compensated('c');
    expect(c.state.status).toBe('compensating');
    expect(statusView(c.state, T0)?.steps.waitingForAgent).toEqual(['a']);
  });
});
