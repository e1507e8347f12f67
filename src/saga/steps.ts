/** Decision rules for steps: scheduling, results, timeouts, retries and failing for good. */
import { pickAgent } from './failover.js';
import { MappingError, resolveInput } from '../workflow/mapping.js';
import { mapStepOutput } from './evolve.js';
import type { StepDefinition } from '../workflow/definition.js';
import type { Json } from '../workflow/json.js';
import type { StepError, WorkflowEvent } from './events.js';
import { backoffDelay } from './backoff.js';
import { active, emit, type Draft } from './draft.js';
import { scheduleCompensation, startCompensation } from './compensation.js';
import { stepIdempotencyKey, type ActiveWorkflowState, type StepState } from './state.js';
import { vget, vtoArray } from './vector.js';

/**
 * Schedules every step made ready by the events decided since `since`: the dependents of steps
 * that just settled, or (after a start, a resume, or under a parallelism limit) every step.
 * Looking only at dependents keeps a decision cheap in workflows of thousands of steps.
 */
export function scheduleReadySteps(draft: Draft, since: number): void {
  const state = active(draft);
  const { steps } = state.definition;
  for (const i of candidateSteps(state, draft.events, since)) {
    const s = active(draft);
    if (s.status !== 'running') return;
    const limit = s.definition.limits.maxParallelSteps;
    if (limit !== undefined && s.runningSteps >= limit) return;
    const step = vget(s.steps, i);
    if (isReady(s, i, step, draft.context.now)) scheduleAttempt(draft, steps[i] as StepDefinition, step.attempt + 1);
  }
}

/** The steps to look at, in definition order, given the events decided from `since` on. */
function candidateSteps(state: ActiveWorkflowState, events: readonly WorkflowEvent[], since: number): Iterable<number> {
  if (state.definition.limits.maxParallelSteps !== undefined) return state.definition.steps.keys();
  const { dependents, indexOf } = state.graph;
  const settled: (readonly number[])[] = [];
  for (let k = since; k < events.length; k++) {
    const event = events[k] as WorkflowEvent;
    if (event.type === 'WorkflowStarted' || event.type === 'WorkflowAdmitted' || event.type === 'WorkflowResumed') return state.definition.steps.keys();
    // Every step event decided here names a step of the definition.
    if (event.type === 'StepSucceeded' || event.type === 'StepSkipped') settled.push(dependents[indexOf.get(event.data.stepId) as number] as readonly number[]);
  }
  // Usually one step just settled: its dependents list is the answer as it is (graphOf builds it
  // in definition order), with no set or sort per decision. A repeat in a list (a hand-written
  // definition listing a dependency twice) is harmless: `isReady` is false once a step is scheduled.
  return settled.length === 1 ? (settled[0] as readonly number[]) : [...new Set(settled.flat())].sort((a, b) => a - b);
}

function isReady(state: ActiveWorkflowState, index: number, step: StepState, now: number): boolean {
  const waiting = step.status === 'pending' || (step.status === 'retryWaiting' && (step.notBefore ?? 0) <= now);
  // (A step waiting for an agent is scheduled by a wake, not here: see `scheduleWaiting`.)
  if (!waiting) return false;
  // Last dependency first: steps start in definition order and mostly settle in it, so for a step
  // joining thousands of others the last is the one most likely still running, and each settle
  // of the others is answered at once instead of after a walk over all that settled before it.
  const dependencies = state.graph.dependencies[index] ?? [];
  for (let k = dependencies.length - 1; k >= 0; k--) {
    const status = vget(state.steps, dependencies[k] as number).status;
    if (status !== 'succeeded' && status !== 'skipped') return false;
  }
  return true;
}

/** Schedules attempt `attempt` of a step on the next candidate agent, or fails it with the reason. */
export function scheduleAttempt(draft: Draft, def: StepDefinition, attempt: number): void {
  const state = active(draft);
  const { now, candidates } = draft.context;
  const agents = candidates(def.capability);
  if (agents.length === 0) {
    // Not a failure: the attempt waits until an agent is available (the runtime wakes the workflow).
    const index = state.graph.indexOf.get(def.id) as number;
    if (vget(state.steps, index).status !== 'waitingForAgent') {
      // Keyed by the revision: one attempt may wait more than once (a pause and resume in between).
      emit(draft, 'StepWaitingForAgent', { workflowId: state.workflowId, at: now, stepId: def.id, attempt, capability: def.capability }, { stepId: def.id, n: state.revision });
    }
    return;
  }
  let input: Json;
  try {
    input = resolveInput(def.input, { data: state.data });
  } catch (error) {
    if (!(error instanceof MappingError)) throw error;
    failAttempt(draft, def, attempt, undefined, { message: `Input mapping of step "${def.id}" failed: ${error.message}`, code: 'MAPPING_ERROR', retryable: false });
    return;
  }
  const previous = attempt > 1 ? vget(state.steps, state.graph.indexOf.get(def.id) as number).agentId : undefined;
  emit(draft, 'StepScheduled', {
    workflowId: state.workflowId, at: now, stepId: def.id, attempt, agentId: pickAgent(agents, previous) as string,
    action: def.action, capability: def.capability, input, deadline: now + def.timeoutMs,
    idempotencyKey: stepIdempotencyKey(state.workflowId, def.id, def.idempotencyKey, attempt),
  }, { stepId: def.id, n: attempt });
}

/**
 * A wake: every attempt waiting for an agent whose capability now has a candidate is scheduled,
 * and so is every compensation waiting likewise. The rest keep waiting.
 */
export function scheduleWaiting(draft: Draft): void {
  const state = active(draft);
  const { candidates } = draft.context;
  vtoArray(state.steps).forEach((step, index) => {
    const def = state.definition.steps[index] as StepDefinition;
    const now = active(draft);
    if (step.status === 'waitingForAgent' && now.status === 'running' && candidates(def.capability).length > 0 && belowLimit(now)) scheduleAttempt(draft, def, step.attempt + 1);
    if (step.compensation.status === 'waitingForAgent' && now.status === 'compensating' && def.compensation && candidates(def.compensation.capability ?? def.capability).length > 0) {
      scheduleCompensation(draft, def, step.compensation.attempt + 1);
    }
  });
}

function belowLimit(state: ActiveWorkflowState): boolean {
  const limit = state.definition.limits.maxParallelSteps;
  return limit === undefined || state.runningSteps < limit;
}

/** The wait for an agent lasted longer than the step allows: the step fails, not retried. */
export function agentWaitTimedOut(draft: Draft, def: StepDefinition, attempt: number): void {
  failAttempt(draft, def, attempt, undefined, { message: `No agent with capability "${def.capability}" became available within ${def.scheduleToStartTimeoutMs ?? 0} ms`, code: 'NO_AGENT', retryable: false });
}

/** Records a successful result; an output the output mapping cannot read fails the step instead. */
export function recordSuccess(draft: Draft, def: StepDefinition, step: StepState, output: Json): void {
  const state = active(draft);
  const { now } = draft.context;
  try {
    mapStepOutput(state.data, def.output, output); // only to learn whether it maps; the fold reuses it
  } catch (error) {
    if (!(error instanceof MappingError)) throw error;
    failAttempt(draft, def, step.attempt, step.agentId, { message: `Output mapping of step "${def.id}" failed: ${error.message}`, code: 'MAPPING_ERROR', retryable: false });
    return;
  }
  emit(draft, 'StepSucceeded', {
    workflowId: state.workflowId, at: now, stepId: def.id, attempt: step.attempt, agentId: step.agentId ?? '', output,
    durationMs: Math.max(0, now - (step.scheduledAt ?? now)),
  }, { stepId: def.id, n: step.attempt });
}

export function failAttempt(draft: Draft, def: StepDefinition, attempt: number, agentId: string | undefined, error: StepError): void {
  const state = active(draft);
  emit(draft, 'StepFailed', { workflowId: state.workflowId, at: draft.context.now, stepId: def.id, attempt, ...(agentId === undefined ? {} : { agentId }), error }, { stepId: def.id, n: attempt });
  afterFailedAttempt(draft, def, error);
}

export function recordTimeout(draft: Draft, def: StepDefinition, step: StepState): void {
  const state = active(draft);
  emit(draft, 'StepTimedOut', { workflowId: state.workflowId, at: draft.context.now, stepId: def.id, attempt: step.attempt, agentId: step.agentId ?? '', deadline: step.deadline ?? draft.context.now }, { stepId: def.id, n: step.attempt });
  afterFailedAttempt(draft, def, { message: `Attempt ${step.attempt} timed out after ${def.timeoutMs} ms`, code: 'TIMEOUT', retryable: true });
}

/**
 * Failure codes that mean "an operator must act before this step can go on": a remote agent asked
 * for input or for credentials (A2A `input-required`, `auth-required`). Such a failure pauses the
 * workflow whatever its failure strategy, with no retry; `retry` resumes it with a new attempt.
 */
export const OPERATOR_WAIT_CODES: readonly string[] = ['input-required', 'auth-required'];

export function awaitsOperator(error: StepError): boolean {
  return error.code !== undefined && OPERATOR_WAIT_CODES.includes(error.code);
}

/** Retry with backoff while the round has attempts left; otherwise the step failed for good. */
function afterFailedAttempt(draft: Draft, def: StepDefinition, error: StepError): void {
  const state = active(draft);
  if (state.status !== 'running') return; // paused or compensating: nothing new starts
  const step = vget(state.steps, state.graph.indexOf.get(def.id) as number);
  if (awaitsOperator(error)) {
    const reason = `Step "${def.id}" awaits an operator (${error.code ?? ''}): ${error.message}`;
    emit(draft, 'WorkflowPaused', { workflowId: state.workflowId, at: draft.context.now, round: state.pauseRound + 1, stepId: def.id, reason }, { n: state.pauseRound + 1 });
    return;
  }
  const attemptsInRound = step.attempt - step.roundStart + 1;
  if (error.retryable && attemptsInRound < def.retry.maxAttempts) {
    const delayMs = backoffDelay(def.retry, attemptsInRound, draft.context.random);
    emit(draft, 'StepRetryScheduled', {
      workflowId: state.workflowId, at: draft.context.now, stepId: def.id, nextAttempt: step.attempt + 1,
      notBefore: draft.context.now + delayMs, delayMs, reason: error.message,
    }, { stepId: def.id, n: step.attempt + 1 });
    return;
  }
  failedForGood(draft, def, step, error);
}

function failedForGood(draft: Draft, def: StepDefinition, step: StepState, error: StepError): void {
  const state = active(draft);
  const reason = `Step "${def.id}" failed after ${step.attempt - step.roundStart + 1} attempt(s): ${error.message}`;
  const base = { workflowId: state.workflowId, at: draft.context.now };
  if (def.optional) {
    emit(draft, 'StepSkipped', { ...base, stepId: def.id, attempts: step.attempt, reason }, { stepId: def.id, n: step.attempt });
    return;
  }
  const strategy = state.definition.failureStrategy;
  switch (strategy) {
    case 'compensate':
      startCompensation(draft, 'failure', reason, def.id);
      return;
    case 'fail':
      emit(draft, 'WorkflowFailed', { ...base, reason, failedStepId: def.id, error });
      return;
    case 'pause':
      emit(draft, 'WorkflowPaused', { ...base, round: state.pauseRound + 1, stepId: def.id, reason }, { n: state.pauseRound + 1 });
      return;
    default: {
      const unknown: never = strategy;
      throw new Error(`Unknown failure strategy ${String(unknown)}`);
    }
  }
}
