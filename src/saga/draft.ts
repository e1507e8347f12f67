/**
 * A decision in progress: the events decided so far and the state they lead to. Every event is
 * folded as soon as it is decided, so each rule reads the state its predecessors produced and a
 * decision is, by construction, exactly what evolve will replay.
 */
import { evolve } from './evolve.js';
import { eventId, type WorkflowEvent, type WorkflowEventData, type WorkflowEventOf, type WorkflowEventType } from './events.js';
import type { ActiveWorkflowState, WorkflowState } from './state.js';
import type { DecisionContext } from './triggers.js';

export interface Draft {
  state: WorkflowState;
  readonly events: WorkflowEvent[];
  /** The state after each event, in order: what observers of the transitions are shown (states are never mutated). */
  readonly states: WorkflowState[];
  readonly context: DecisionContext;
}

export function newDraft(state: WorkflowState, context: DecisionContext): Draft {
  return { state, events: [], states: [], context };
}

/**
 * Decides one event. `key` makes its id unique within the workflow: the step and attempt for step
 * and compensation events, the pause round for pause/resume, nothing for once-only events.
 */
export function emit<T extends WorkflowEventType>(draft: Draft, type: T, data: WorkflowEventData<T>, key: { stepId?: string; n?: number } = {}): void {
  const event = { id: eventId(data.workflowId, type, key.stepId, key.n, draft.context.deciderId), type, data } as WorkflowEventOf<T>;
  draft.events.push(event);
  draft.state = evolve(draft.state, event);
  draft.states.push(draft.state);
}

/** The draft's state, known to be started (callers check `status !== 'idle'` first). */
export function active(draft: Draft): ActiveWorkflowState {
  if (draft.state.status === 'idle') throw new Error('Workflow not started');
  return draft.state;
}
