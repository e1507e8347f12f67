/**
 * evolve: folds one workflow event into the state. Pure and total: it never mutates the previous
 * state (steps live in a persistent vector, so only the touched step's chunk is copied) and it
 * ignores events it cannot apply (for an unknown step, or before WorkflowStarted) rather than throw,
 * so a stored history always folds.
 */
import { applyOutput, MappingError } from '../workflow/mapping.js';
import { graphOf } from '../workflow/graph.js';
import type { Json } from '../workflow/json.js';
import type { WorkflowEvent } from './events.js';
import { initialSteps, initialState, type ActiveWorkflowState, type CompensationProgress, type StepState, type WorkflowState } from './state.js';
import { vget, vset, vtoArray, vectorOf } from './vector.js';
import { patchCompensation, patchStep, patchWorkflow } from './shapes.js';

export function evolve(state: WorkflowState, event: WorkflowEvent): WorkflowState {
  const revision = state.revision + 1;
  if (event.type === 'WorkflowStarted') {
    if (state.status !== 'idle') return { ...state, revision };
    const { definition, definitionHash, input, data, workflowId, at, priority, queued } = event.data;
    return {
      // Without `queued` (every start before the backlog was durable, and every start admitted at once): running.
      status: queued === true ? 'queued' : 'running', workflowId, revision, definition, definitionHash, graph: graphOf(definition), input, data,
      startedAt: at, priority: priority ?? 0, steps: initialSteps(definition), runningSteps: 0, settledSteps: 0, openCompensations: 0, pauseRound: 0,
      compensation: undefined, compensationRound: 0, lastError: undefined, endedAt: undefined,
    };
  }
  if (state.status === 'idle') return { ...state, revision };
  const next = evolveActive(state, event);
  if (next === state) return patchWorkflow(state, { revision });
  // `next` was created by this call and nobody else holds it yet: setting its revision in place
  // saves a second copy of the state per event and leaves every earlier state untouched.
  (next as { revision: number }).revision = revision;
  return next;
}

/** Folds a whole history from the initial state. State at revision N is the fold of the first N+1 events. */
export function foldEvents(events: Iterable<WorkflowEvent>, from: WorkflowState = initialState()): WorkflowState {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
}

/**
 * The steps whose state `events` changed, when each event changes only the step it names; undefined
 * when one of them may change any step (a resume resets failed steps, compensation abandons waiting
 * retries) or is workflow-wide. Lets the runtime re-arm the timers of those steps alone rather than
 * look at every step of a wide workflow after every decision.
 */
export function stepsChangedBy(events: readonly WorkflowEvent[]): Set<string> | undefined {
  const steps = new Set<string>();
  for (const event of events) {
    const stepId = stepChangedBy(event);
    if (stepId === undefined) return undefined;
    steps.add(stepId);
  }
  return steps;
}

/** The one step whose state `event` changes, when it changes no other. */
function stepChangedBy(event: WorkflowEvent): string | undefined {
  switch (event.type) {
    case 'StepScheduled':
    case 'StepSucceeded':
    case 'StepFailed':
    case 'StepTimedOut':
    case 'StepRetryScheduled':
    case 'StepSkipped':
    case 'CompensationScheduled':
    case 'CompensationSucceeded':
    case 'CompensationFailed':
    case 'CompensationRetryScheduled':
    case 'StepWaitingForAgent':
    case 'CompensationWaitingForAgent':
    case 'StepResumed':
    case 'StepTaskAccepted':
    case 'CompensationResumed':
      return event.data.stepId;
    case 'WorkflowStarted':
    case 'WorkflowAdmitted':
    case 'CompensationRetried':
    case 'WorkflowResolved':
    case 'WorkflowPaused':
    case 'WorkflowResumed':
    case 'CompensationStarted':
    case 'WorkflowCompleted':
    case 'WorkflowFailed':
    case 'WorkflowCompensated':
    case 'WorkflowCompensationFailed':
    case 'WorkflowCancelled':
      return undefined;
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

function evolveActive(state: ActiveWorkflowState, event: Exclude<WorkflowEvent, { type: 'WorkflowStarted' }>): ActiveWorkflowState {
  switch (event.type) {
    case 'StepScheduled': {
      const { stepId, attempt, agentId, input, deadline, at, idempotencyKey } = event.data;
      return updateStep(state, stepId, (step) => patchStep(step, { status: 'running', attempt, agentId, input, idempotencyKey, scheduledAt: at, deadline, notBefore: undefined, taskId: undefined }));
    }
    case 'StepWaitingForAgent':
      return updateStep(state, event.data.stepId, (step) => (step.status === 'waitingForAgent' ? step : patchStep(step, { status: 'waitingForAgent', scheduledAt: event.data.at, notBefore: undefined, deadline: undefined })));
    case 'CompensationWaitingForAgent':
      return updateCompensation(state, event.data.stepId, (c) => (c.status === 'waitingForAgent' ? c : patchCompensation(c, { status: 'waitingForAgent', scheduledAt: event.data.at, notBefore: undefined, deadline: undefined })));
    case 'StepResumed': {
      const { stepId, attempt, agentId, deadline } = event.data;
      // A task belongs to its agent: a re-send to another agent starts without one.
      return updateStep(state, stepId, (step) => (step.status === 'running' && step.attempt === attempt ? patchStep(step, step.agentId === agentId ? { agentId, deadline } : { agentId, deadline, taskId: undefined }) : step));
    }
    case 'StepTaskAccepted': {
      const { stepId, attempt, agentId, taskId } = event.data;
      return updateStep(state, stepId, (step) => (step.status === 'running' && step.attempt === attempt && step.agentId === agentId ? patchStep(step, { taskId }) : step));
    }
    case 'StepSucceeded': {
      const { stepId, output } = event.data;
      const index = state.graph.indexOf.get(stepId);
      const mapping = index === undefined ? undefined : state.definition.steps[index]?.output;
      const withStep = updateStep(state, stepId, (step) => patchStep(step, { status: 'succeeded', output, deadline: undefined }));
      return mapping ? patchWorkflow(withStep, { data: mapOutput(state.data, mapping, output) }) : withStep;
    }
    case 'StepFailed': {
      const { stepId, attempt, error } = event.data;
      const next = updateStep(state, stepId, (step) => patchStep(step, { status: 'failed', attempt: Math.max(step.attempt, attempt), lastError: error, deadline: undefined }));
      return patchWorkflow(next, { lastError: { stepId, error } });
    }
    case 'StepTimedOut': {
      const { stepId, deadline } = event.data;
      const step = findStep(state, stepId);
      const timeoutMs = step && step.scheduledAt !== undefined ? deadline - step.scheduledAt : undefined;
      const error = { message: `Attempt timed out${timeoutMs === undefined ? '' : ` after ${timeoutMs} ms`}`, code: 'TIMEOUT', retryable: true };
      const next = updateStep(state, stepId, (s) => patchStep(s, { status: 'failed', lastError: error, deadline: undefined }));
      return patchWorkflow(next, { lastError: { stepId, error } });
    }
    case 'StepRetryScheduled': {
      const { stepId, notBefore } = event.data;
      return updateStep(state, stepId, (step) => patchStep(step, { status: 'retryWaiting', notBefore }));
    }
    case 'StepSkipped':
      return updateStep(state, event.data.stepId, (step) => patchStep(step, { status: 'skipped', notBefore: undefined }));
    case 'WorkflowAdmitted':
      return state.status === 'queued' ? patchWorkflow(state, { status: 'running' }) : state;
    case 'WorkflowPaused':
      return patchWorkflow(state, { status: 'paused', pauseRound: event.data.round });
    case 'WorkflowResumed':
      return patchWorkflow(resetForNewRound(state), { status: 'running', pauseRound: event.data.round });
    case 'CompensationStarted': {
      const { cause, reason, failedStepId, at } = event.data;
      return patchWorkflow(abandonRetries(state), { status: 'compensating', compensation: { cause, reason, failedStepId, startedAt: at }, compensationRound: 1 });
    }
    case 'CompensationScheduled': {
      const { stepId, attempt, agentId, input, deadline, at, idempotencyKey } = event.data;
      return updateCompensation(state, stepId, (c) => patchCompensation(c, { status: 'running', attempt, agentId, input, idempotencyKey, scheduledAt: at, deadline, notBefore: undefined }));
    }
    case 'CompensationResumed': {
      const { stepId, attempt, agentId, deadline } = event.data;
      return updateCompensation(state, stepId, (c) => (c.status === 'running' && c.attempt === attempt ? patchCompensation(c, { agentId, deadline }) : c));
    }
    case 'CompensationSucceeded':
      return updateCompensation(state, event.data.stepId, (c) => patchCompensation(c, { status: 'succeeded', output: event.data.output, deadline: undefined }));
    case 'CompensationFailed': {
      const { stepId, attempt, error } = event.data;
      const next = updateCompensation(state, stepId, (c) => patchCompensation(c, { status: 'failed', attempt: Math.max(c.attempt, attempt), lastError: error, deadline: undefined }));
      return patchWorkflow(next, { lastError: { stepId, error } });
    }
    case 'CompensationRetryScheduled':
      return updateCompensation(state, event.data.stepId, (c) => patchCompensation(c, { status: 'retryWaiting', notBefore: event.data.notBefore }));
    case 'WorkflowCompleted':
      return patchWorkflow(state, { status: 'completed', endedAt: event.data.at });
    case 'WorkflowFailed': {
      const { reason, failedStepId, error, at } = event.data;
      return patchWorkflow(state, { status: 'failed', endedAt: at, lastError: { stepId: failedStepId, error: error ?? { message: reason, retryable: false } } });
    }
    case 'WorkflowCompensated':
      return patchWorkflow(state, { status: 'compensated', endedAt: event.data.at });
    case 'WorkflowCompensationFailed':
      return patchWorkflow(state, { status: 'compensationFailed', endedAt: event.data.at });
    case 'WorkflowCancelled':
      return patchWorkflow(state, { status: 'cancelled', endedAt: event.data.at });
    case 'CompensationRetried':
      return patchWorkflow(resetFailedCompensations(state), { status: 'compensating', compensationRound: event.data.round, endedAt: undefined });
    case 'WorkflowResolved':
      return patchWorkflow(state, { status: 'resolved', endedAt: event.data.at });
    default: {
      const unknown: never = event;
      return unknownEvent(unknown, state);
    }
  }
}

function unknownEvent(event: never, state: ActiveWorkflowState): ActiveWorkflowState {
  void event;
  return state;
}

function findStep(state: ActiveWorkflowState, stepId: string): StepState | undefined {
  const index = state.graph.indexOf.get(stepId);
  return index === undefined ? undefined : vget(state.steps, index);
}

/** Replaces one step and keeps the running/settled counters in line with its status change. */
function updateStep(state: ActiveWorkflowState, stepId: string, change: (step: StepState) => StepState): ActiveWorkflowState {
  const index = state.graph.indexOf.get(stepId);
  if (index === undefined) return state;
  const before = vget(state.steps, index);
  const after = change(before);
  return patchWorkflow(state, {
    steps: vset(state.steps, index, after),
    runningSteps: state.runningSteps + delta(before.status === 'running', after.status === 'running'),
    settledSteps: state.settledSteps + delta(isSettled(before), isSettled(after)),
    openCompensations: state.openCompensations + delta(isOpen(before.compensation), isOpen(after.compensation)),
  });
}

function updateCompensation(state: ActiveWorkflowState, stepId: string, change: (c: CompensationProgress) => CompensationProgress): ActiveWorkflowState {
  return updateStep(state, stepId, (step) => patchStep(step, { compensation: change(step.compensation) }));
}

function isSettled(step: StepState): boolean {
  return step.status === 'succeeded' || step.status === 'skipped';
}

function isOpen(compensation: CompensationProgress): boolean {
  return compensation.status === 'running' || compensation.status === 'retryWaiting' || compensation.status === 'waitingForAgent';
}

function delta(before: boolean, after: boolean): number {
  return (after ? 1 : 0) - (before ? 1 : 0);
}

function mapOutput(data: Json, mapping: Readonly<Record<string, string>>, output: Json): Json {
  try {
    return mapStepOutput(data, mapping, output);
  } catch (error) {
    // decide fails a step whose output cannot be mapped, so a stored StepSucceeded always maps;
    // a hand-written history that does not is folded without the mapping rather than rejected.
    if (error instanceof MappingError) return data;
    throw error;
  }
}

/**
 * decide maps a step's output to learn whether it maps (else the step fails), then folds the
 * StepSucceeded it decided, which maps the same output onto the same data again. The first
 * result is handed to that fold: kept for one call only, and only for the very same objects, so
 * the result is the same either way.
 */
let justMapped: { data: Json; mapping: object; output: Json; result: Json } | undefined;

/** `applyOutput`, sharing its result with the fold that follows (see `justMapped`). */
export function mapStepOutput(data: Json, mapping: Readonly<Record<string, string>>, output: Json): Json {
  const known = justMapped;
  justMapped = undefined;
  if (known !== undefined && known.data === data && known.mapping === mapping && known.output === output) return known.result;
  const result = applyOutput(data, mapping, output);
  justMapped = { data, mapping, output, result };
  return result;
}

/** A resume gives failed steps a fresh round of attempts and runs due retries at once. */
function resetForNewRound(state: ActiveWorkflowState): ActiveWorkflowState {
  const steps = vtoArray(state.steps).map((step): StepState => {
    if (step.status === 'failed') return patchStep(step, { status: 'pending', roundStart: step.attempt + 1 });
    if (step.status === 'retryWaiting' || step.status === 'waitingForAgent') return patchStep(step, { status: 'pending', notBefore: undefined });
    return step;
  });
  return patchWorkflow(state, { steps: vectorOf(steps) });
}

/** A new compensation round: failed compensations start over with a fresh budget of attempts. */
function resetFailedCompensations(state: ActiveWorkflowState): ActiveWorkflowState {
  const steps = vtoArray(state.steps).map((step): StepState => (step.compensation.status === 'failed' ? patchStep(step, { compensation: patchCompensation(step.compensation, { status: 'none', roundStart: step.compensation.attempt + 1 }) }) : step));
  return patchWorkflow(state, { steps: vectorOf(steps) });
}

/** Once compensation starts nothing new is scheduled: pending retries are dropped. */
function abandonRetries(state: ActiveWorkflowState): ActiveWorkflowState {
  const steps = vtoArray(state.steps).map((step): StepState => (step.status === 'retryWaiting' || step.status === 'waitingForAgent' ? patchStep(step, { status: 'abandoned', notBefore: undefined }) : step));
  return patchWorkflow(state, { steps: vectorOf(steps) });
}
