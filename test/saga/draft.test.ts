/**
 * A decision in progress (src/saga/draft.ts): every decided event is folded at once, so each rule
 * reads the state its predecessors produced, and a rule never decides on a workflow not started.
 */
import { describe, expect, it } from 'vitest';
import { active, emit, newDraft } from '../../src/saga/draft.js';
import { eventId, foldEvents, initialState } from '../../src/saga/index.js';
import { Scenario, T0, ctx, diamond } from './spec.js';

describe('a draft decision', () => {
  it('folds each event as it is decided, keeping the state after each one, under ids keyed by step and attempt and the decider', () => {
    const s = new Scenario(diamond()).start().succeed('a');
    const before = s.state;
    const draft = newDraft(before, ctx({ deciderId: 'runtime-2' }));
    emit(draft, 'StepSucceeded', { workflowId: 'wf-1', at: T0, stepId: 'b', attempt: 1, agentId: 'cap-b-1', output: {}, durationMs: 0 }, { stepId: 'b', n: 1 });
    emit(draft, 'WorkflowPaused', { workflowId: 'wf-1', at: T0, round: 1, reason: 'why' }, { n: 1 });
    expect(draft.events.map((e) => e.id)).toEqual([eventId('wf-1', 'StepSucceeded', 'b', 1, 'runtime-2'), eventId('wf-1', 'WorkflowPaused', undefined, 1, 'runtime-2')]);
    expect(draft.states).toEqual([foldEvents([...s.events, ...draft.events.slice(0, 1)]), foldEvents([...s.events, ...draft.events])]);
    expect(draft.state).toBe(draft.states[1]);
    expect(active(draft).status).toBe('paused');
    expect(before.status).toBe('running'); // states are never changed in place
  });

  it('refuses a rule on a workflow not started instead of deciding on an idle state', () => {
    expect(() => active(newDraft(initialState('wf-1'), ctx()))).toThrow(new Error('Workflow not started'));
  });
});
