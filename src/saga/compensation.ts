/**
 * Decision rules for compensation: once started, nothing new is scheduled; in-flight steps drain;
 * then every step whose action may have taken effect and that has a compensation is compensated
 * (succeeded steps, and by default also steps that were sent to an agent but then failed or timed
 * out: see `compensation.when`), a step only after every step that depends on it (transitively) is
 * compensated, independent ones in parallel, each with its retries. A compensation names the keys
 * the step's action ran under, so the agent can undo what was done under them, or nothing.
 */
import { pickAgent } from './failover.js';
import { MappingError, parseSourcePath, resolveInput, type MappingSource } from '../workflow/mapping.js';
import type { StepDefinition } from '../workflow/definition.js';
import type { Json } from '../workflow/json.js';
import type { CompensationCause, StepError, WorkflowEvent } from './events.js';
import { backoffDelay } from './backoff.js';
import { active, emit, type Draft } from './draft.js';
import { compensationIdempotencyKey, mayHaveTakenEffect, stepActionKeys, type ActiveWorkflowState, type StepState } from './state.js';
import { vget, vtoArray } from './vector.js';

/** An operator's compensate on a failed compensation: failed and blocked compensations get a new round. */
export function retryCompensation(draft: Draft, reason: string): void {
  const state = active(draft);
  const retrySteps = vtoArray(state.steps).filter((step, i) => needsCompensation(state, i, step) && (step.compensation.status === 'failed' || step.compensation.status === 'none')).map((step) => step.id);
  const round = state.compensationRound + 1;
  emit(draft, 'CompensationRetried', { workflowId: state.workflowId, at: draft.context.now, round, reason, retrySteps }, { n: round });
}

/** Steps owed a compensation that is not done: what a resolution leaves to the operator's note. */
export function unresolvedCompensations(state: ActiveWorkflowState): string[] {
  return vtoArray(state.steps).filter((step, i) => needsCompensation(state, i, step) && step.compensation.status !== 'succeeded').map((step) => step.id);
}

export function startCompensation(draft: Draft, cause: CompensationCause, reason: string, failedStepId?: string): void {
  const state = active(draft);
  const toCompensate = vtoArray(state.steps).filter((step, i) => needsCompensation(state, i, step)).map((step) => step.id);
  emit(draft, 'CompensationStarted', { workflowId: state.workflowId, at: draft.context.now, cause, reason, ...(failedStepId === undefined ? {} : { failedStepId }), toCompensate });
}

/** Has a compensation, and its action took effect (succeeded) or may have (attempted, when the definition says so). */
function needsCompensation(state: ActiveWorkflowState, index: number, step: StepState): boolean {
  const compensation = state.definition.steps[index]?.compensation;
  if (compensation === undefined) return false;
  return step.status === 'succeeded' || (compensation.when === 'attempted' && mayHaveTakenEffect(step));
}

/**
 * One pass: schedule the compensations now allowed; with none left to run, end the workflow.
 * `since` is where this pass's news starts in `draft.events`: when it is only compensation
 * results, the steps it can have unblocked are found from the compensations that just succeeded
 * (see `unblockedBy`), so a pass does not look at every step of a wide workflow.
 */
export function advanceCompensation(draft: Draft, since = 0): void {
  const state = active(draft);
  if (state.status !== 'compensating' || state.runningSteps > 0) return;
  let scheduled = false;
  for (const i of allowedSteps(state, draft.events, since)) {
    // Attempt numbers go on across compensation rounds (event ids include them).
    scheduleCompensation(draft, state.definition.steps[i] as StepDefinition, vget(state.steps, i).compensation.attempt + 1);
    scheduled = true;
  }
  if (!scheduled) finishIfSettled(draft);
}

/** Events that move one compensation along without letting any other start. */
const compensationProgress: ReadonlySet<WorkflowEvent['type']> = new Set(['CompensationScheduled', 'CompensationFailed', 'CompensationRetryScheduled', 'CompensationWaitingForAgent', 'CompensationResumed']);

/** The steps whose compensation may start now and has not, last step first. */
function allowedSteps(state: ActiveWorkflowState, events: readonly WorkflowEvent[], since: number): number[] {
  const succeeded: number[] = [];
  for (let k = since; k < events.length; k++) {
    const event = events[k] as WorkflowEvent;
    if (event.type === 'CompensationSucceeded') succeeded.push(state.graph.indexOf.get(event.data.stepId) ?? -1);
    // Anything else than a compensation's progress (the start, the drain of running steps, a new
    // round, a new kind of event): every step is looked at.
    else if (!compensationProgress.has(event.type)) return allAllowed(state);
  }
  return succeeded.length === 0 ? [] : unblockedBy(state, succeeded);
}

/**
 * A step is cleared for its dependencies' compensations when nothing below it is owed any more:
 * its own compensation succeeded (or it owes none) and every step depending on it is cleared. A
 * step owing a compensation may start it once every step depending on it is cleared. Memo per pass.
 */
class Clearance {
  readonly #state: ActiveWorkflowState;
  readonly #cleared = new Map<number, boolean>();

  constructor(state: ActiveWorkflowState) {
    this.#state = state;
  }

  owes(index: number): boolean {
    return needsCompensation(this.#state, index, vget(this.#state.steps, index));
  }

  /**
   * Whether every step depending on `index` is cleared. Dependents are looked at in index order:
   * compensations are started last step first, so the lowest-numbered dependent is the one most
   * likely still owed, and a step with thousands of dependents is answered from its first.
   */
  dependentsCleared(index: number): boolean {
    return (this.#state.graph.dependents[index] ?? []).every((d) => this.cleared(d));
  }

  /** Depth first with an explicit stack and a cursor per step: steps owing nothing can form chains thousands deep. */
  cleared(start: number): boolean {
    const stack = [start];
    const next = [0];
    while (stack.length > 0) {
      const top = stack.length - 1;
      const index = stack[top] as number;
      if (this.#cleared.has(index)) {
        stack.pop();
        next.pop();
        continue;
      }
      // A compensation that succeeded was started only when its step's dependents were cleared,
      // and cleared steps stay cleared: no need to look below it.
      if (this.owes(index)) {
        this.#cleared.set(index, vget(this.#state.steps, index).compensation.status === 'succeeded');
        continue;
      }
      const dependents = this.#state.graph.dependents[index] ?? [];
      let k = next[top] as number;
      while (k < dependents.length && this.#cleared.get(dependents[k] as number) === true) k++;
      next[top] = k;
      if (k === dependents.length || this.#cleared.get(dependents[k] as number) === false) {
        this.#cleared.set(index, k === dependents.length);
        continue;
      }
      stack.push(dependents[k] as number);
      next.push(0);
    }
    return this.#cleared.get(start) as boolean;
  }
}

/** Every step whose compensation may start and has not: the first pass, or after anything unusual. */
function allAllowed(state: ActiveWorkflowState): number[] {
  const clearance = new Clearance(state);
  const allowed: number[] = [];
  for (let i = state.steps.length - 1; i >= 0; i--) {
    if (clearance.owes(i) && vget(state.steps, i).compensation.status === 'none' && clearance.dependentsCleared(i)) allowed.push(i);
  }
  return allowed;
}

/**
 * The steps a pass may start after the compensations of `succeeded` succeeded: only their
 * dependencies can have been waiting for them, and, through dependencies that owe nothing, those
 * dependencies' own dependencies. (Every step allowed before was started by an earlier pass.)
 */
function unblockedBy(state: ActiveWorkflowState, succeeded: readonly number[]): number[] {
  const clearance = new Clearance(state);
  const allowed = new Set<number>();
  const seen = new Set<number>();
  const stack = succeeded.flatMap((i) => state.graph.dependencies[i] ?? []);
  while (stack.length > 0) {
    const index = stack.pop() as number;
    if (seen.has(index)) continue;
    seen.add(index);
    if (!clearance.dependentsCleared(index)) continue;
    if (!clearance.owes(index)) for (const d of state.graph.dependencies[index] ?? []) stack.push(d);
    else if (vget(state.steps, index).compensation.status === 'none') allowed.add(index);
  }
  return [...allowed].sort((a, b) => b - a);
}

function finishIfSettled(draft: Draft): void {
  const state = active(draft);
  if (state.openCompensations > 0) return; // a counter: not a look at every step after every result
  const owed = vtoArray(state.steps).filter((step, i) => needsCompensation(state, i, step));
  const compensatedSteps = owed.filter((step) => step.compensation.status === 'succeeded').map((step) => step.id);
  const failedSteps = owed.filter((step) => step.compensation.status === 'failed').map((step) => step.id);
  const blockedSteps = owed.filter((step) => step.compensation.status === 'none').map((step) => step.id);
  const info = state.compensation ?? { cause: 'failure' as const, reason: 'compensation' };
  const base = { workflowId: state.workflowId, at: draft.context.now };
  // A later round (an operator compensated again) ends with events of its own ids.
  const key = state.compensationRound > 1 ? { n: state.compensationRound } : {};
  if (failedSteps.length > 0 || blockedSteps.length > 0) {
    const lastError = owed.find((step) => step.compensation.status === 'failed')?.compensation.lastError;
    emit(draft, 'WorkflowCompensationFailed', { ...base, cause: info.cause, reason: info.reason, compensatedSteps, failedSteps, blockedSteps, ...(lastError ? { lastError } : {}) }, key);
  } else if (info.cause === 'cancel') {
    emit(draft, 'WorkflowCancelled', { ...base, reason: info.reason, compensatedSteps }, key);
  } else {
    emit(draft, 'WorkflowCompensated', { ...base, cause: info.cause, reason: info.reason, compensatedSteps }, key);
  }
}

export function scheduleCompensation(draft: Draft, def: StepDefinition, attempt: number): void {
  const state = active(draft);
  const compensation = def.compensation;
  if (!compensation) return;
  const step = vget(state.steps, state.graph.indexOf.get(def.id) as number);
  const capability = compensation.capability ?? def.capability;
  const agents = draft.context.candidates(capability);
  if (agents.length === 0) {
    // Waits for an agent, as a step does: a compensation is never given up for want of one.
    if (step.compensation.status !== 'waitingForAgent') {
      emit(draft, 'CompensationWaitingForAgent', { workflowId: state.workflowId, at: draft.context.now, stepId: def.id, attempt, capability }, { stepId: def.id, n: state.revision });
    }
    return;
  }
  let input: Json;
  try {
    // A step that did not succeed has no output: its `$output.x` sources read as null, and the
    // agent finds what the action may have done by the keys in `compensates`.
    const mapping = step.status === 'succeeded' ? compensation.input : withoutOutputSources(compensation.input);
    input = resolveInput(mapping, { data: state.data, ...(step.output === undefined ? {} : { output: step.output }), ...(step.input === undefined ? {} : { input: step.input }) });
  } catch (error) {
    if (!(error instanceof MappingError)) throw error;
    failCompensationAttempt(draft, def, attempt, undefined, { message: `Compensation input mapping of step "${def.id}" failed: ${error.message}`, code: 'MAPPING_ERROR', retryable: false });
    return;
  }
  const { now } = draft.context;
  emit(draft, 'CompensationScheduled', {
    workflowId: state.workflowId, at: now, stepId: def.id, attempt, agentId: pickAgent(agents, attempt > 1 ? step.compensation.agentId : undefined) as string,
    action: compensation.action, capability, input, deadline: now + (compensation.timeoutMs ?? def.timeoutMs),
    idempotencyKey: compensationIdempotencyKey(state.workflowId, def.id), compensates: stepActionKeys(state.workflowId, def, step),
  }, { stepId: def.id, n: attempt });
}

function withoutOutputSources(mapping: Readonly<Record<string, MappingSource>>): Record<string, MappingSource> {
  const result: Record<string, MappingSource> = {};
  for (const [target, source] of Object.entries(mapping)) {
    result[target] = typeof source === 'string' && parseSourcePath(source).scope === 'output' ? { value: null } : source;
  }
  return result;
}

export function recordCompensationSuccess(draft: Draft, def: StepDefinition, step: StepState, output: Json): void {
  const state = active(draft);
  const { now } = draft.context;
  const c = step.compensation;
  emit(draft, 'CompensationSucceeded', { workflowId: state.workflowId, at: now, stepId: def.id, attempt: c.attempt, agentId: c.agentId ?? '', output, durationMs: Math.max(0, now - (c.scheduledAt ?? now)) }, { stepId: def.id, n: c.attempt });
}

export function failCompensationAttempt(draft: Draft, def: StepDefinition, attempt: number, agentId: string | undefined, error: StepError): void {
  const state = active(draft);
  const { now, random } = draft.context;
  emit(draft, 'CompensationFailed', { workflowId: state.workflowId, at: now, stepId: def.id, attempt, ...(agentId === undefined ? {} : { agentId }), error }, { stepId: def.id, n: attempt });
  const policy = def.compensation?.retry;
  const roundStart = vget(state.steps, state.graph.indexOf.get(def.id) as number).compensation.roundStart;
  const attemptsInRound = attempt - roundStart + 1;
  if (!policy || !error.retryable || attemptsInRound >= policy.maxAttempts) return;
  const delayMs = backoffDelay(policy, attemptsInRound, random);
  emit(draft, 'CompensationRetryScheduled', { workflowId: state.workflowId, at: now, stepId: def.id, nextAttempt: attempt + 1, notBefore: now + delayMs, delayMs, reason: error.message }, { stepId: def.id, n: attempt + 1 });
}
