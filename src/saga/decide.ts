/**
 * decide: given a workflow's state and a trigger (a command, an agent call's result, a timer),
 * the events to append. Pure: time, jitter and the candidate agents come in the context.
 * Stale or duplicate results and timers decide nothing; senseless commands throw
 * `CommandRejectedError` and decide nothing.
 */
import { DefinitionError, validateDefinition } from '../workflow/validate.js';
import { definitionHash } from '../workflow/hash.js';
import { hasPath } from '../workflow/mapping.js';
import type { Json } from '../workflow/json.js';
import type { StepDefinition, WorkflowDefinition } from '../workflow/definition.js';
import { MAX_PRIORITY, MIN_PRIORITY, prioritySchema, type WorkflowEvent } from './events.js';
import { active, emit, newDraft, type Draft } from './draft.js';
import { advanceCompensation, failCompensationAttempt, recordCompensationSuccess, retryCompensation, scheduleCompensation, startCompensation, unresolvedCompensations } from './compensation.js';
import { agentWaitTimedOut, failAttempt, recordSuccess, recordTimeout, scheduleAttempt, scheduleReadySteps, scheduleWaiting } from './steps.js';
import { isTerminal, type ActiveWorkflowState, type StepState, type TimerRef, type WorkflowState } from './state.js';
import { CommandRejectedError, type DecisionContext, type Trigger, type WorkflowCommand } from './triggers.js';
import { vget, vtoArray } from './vector.js';

export function decide(state: WorkflowState, trigger: Trigger, context: DecisionContext): WorkflowEvent[] {
  return decideTransition(state, trigger, context).events;
}

/**
 * `decide`, plus the state the decided events lead to (the fold decide already did while deciding),
 * so the runtime need not fold the same events a second time. `state` equals
 * `events.reduce(evolve, previous)`; `states[i]` is the state right after `events[i]`.
 */
export function decideTransition(state: WorkflowState, trigger: Trigger, context: DecisionContext): { events: WorkflowEvent[]; state: WorkflowState; states: WorkflowState[] } {
  const draft = newDraft(state, context);
  switch (trigger.kind) {
    case 'command':
      onCommand(draft, trigger.command);
      break;
    case 'stepResult':
      onStepResult(draft, trigger.stepId, trigger.attempt, trigger.outcome);
      break;
    case 'compensationResult':
      onCompensationResult(draft, trigger.stepId, trigger.attempt, trigger.outcome);
      break;
    case 'taskAccepted':
      onTaskAccepted(draft, trigger);
      break;
    case 'timer':
      onTimer(draft, trigger.timer);
      break;
    case 'resume':
      onResume(draft, trigger.reason);
      if (draft.state.status !== 'idle' && !isTerminal(draft.state.status)) scheduleWaiting(draft);
      break;
    case 'wake':
      if (draft.state.status !== 'idle' && !isTerminal(draft.state.status)) scheduleWaiting(draft);
      break;
    case 'admit':
      // Only a queued workflow is admitted: a stale admit (another runtime was first, it was cancelled) decides nothing.
      if (draft.state.status === 'queued') emit(draft, 'WorkflowAdmitted', { workflowId: draft.state.workflowId, at: draft.context.now });
      break;
    default: {
      const unknown: never = trigger;
      throw new Error(`Unknown trigger ${JSON.stringify(unknown)}`);
    }
  }
  if (draft.events.length > 0) progress(draft);
  return { events: draft.events, state: draft.state, states: draft.states };
}

/** Follows a decided fact to its consequences until nothing more follows. */
function progress(draft: Draft): void {
  let since = 0;
  for (;;) {
    const before = draft.events.length;
    const state = active(draft);
    switch (state.status) {
      case 'running':
        scheduleReadySteps(draft, since);
        completeIfSettled(draft);
        break;
      case 'compensating':
        advanceCompensation(draft, since);
        break;
      case 'queued':
      case 'paused':
      case 'completed':
      case 'failed':
      case 'compensated':
      case 'compensationFailed':
      case 'cancelled':
      case 'resolved':
        break;
      default: {
        const unknown: never = state.status;
        throw new Error(`Unknown status ${String(unknown)}`);
      }
    }
    if (draft.events.length === before) return;
    since = before;
  }
}

function completeIfSettled(draft: Draft): void {
  const state = active(draft);
  if (state.status !== 'running' || state.settledSteps < state.definition.steps.length) return;
  const skippedSteps = vtoArray(state.steps).filter((step) => step.status === 'skipped').map((step) => step.id);
  emit(draft, 'WorkflowCompleted', { workflowId: state.workflowId, at: draft.context.now, data: state.data, skippedSteps, durationMs: Math.max(0, draft.context.now - state.startedAt) });
}

function onCommand(draft: Draft, command: WorkflowCommand): void {
  const state = draft.state;
  if (command.type === 'start') return start(draft, command);
  if (state.status === 'idle') throw new CommandRejectedError(command.type, `Cannot ${command.type}: workflow ${state.workflowId ?? ''} has not been started`.replace('  ', ' '));
  const where = `workflow ${state.workflowId} is ${state.status}`;
  switch (command.type) {
    case 'cancel':
      // Nothing of a queued workflow has run: it ends at once, with nothing to compensate.
      if (state.status === 'queued') return emit(draft, 'WorkflowCancelled', { workflowId: state.workflowId, at: draft.context.now, reason: command.reason ?? 'Cancelled by an operator', compensatedSteps: [] });
      if (state.status !== 'running' && state.status !== 'paused') throw new CommandRejectedError('cancel', `Cannot cancel: ${where}`);
      return startCompensation(draft, 'cancel', command.reason ?? 'Cancelled by an operator');
    case 'compensate':
      // Compensating again after a failed compensation retries what failed, in the usual order.
      if (state.status === 'compensationFailed') return retryCompensation(draft, command.reason ?? 'Compensation retried by an operator');
      if (state.status === 'queued') throw new CommandRejectedError('compensate', `Cannot compensate: ${where} (nothing of it has run: cancel it)`);
      if (state.status !== 'running' && state.status !== 'paused') throw new CommandRejectedError('compensate', `Cannot compensate: ${where}`);
      return startCompensation(draft, 'command', command.reason ?? 'Compensation requested by an operator');
    case 'resolve': {
      if (state.status !== 'compensationFailed') throw new CommandRejectedError('resolve', `Cannot resolve: ${where} (only a workflow whose compensation failed can be resolved)`);
      const note = command.note.trim();
      if (note.length === 0) throw new CommandRejectedError('resolve', 'Cannot resolve: the note is empty (say what was done by hand)');
      emit(draft, 'WorkflowResolved', { workflowId: state.workflowId, at: draft.context.now, note, unresolvedSteps: unresolvedCompensations(state) });
      return;
    }
    case 'retry': {
      if (state.status !== 'paused') throw new CommandRejectedError('retry', `Cannot retry: ${where} (only a paused workflow can be retried)`);
      const retrySteps = vtoArray(state.steps).filter((step) => step.status === 'failed' || step.status === 'retryWaiting').map((step) => step.id);
      emit(draft, 'WorkflowResumed', { workflowId: state.workflowId, at: draft.context.now, round: state.pauseRound, retrySteps }, { n: state.pauseRound });
      return;
    }
    default: {
      const unknown: never = command;
      throw new Error(`Unknown command ${JSON.stringify(unknown)}`);
    }
  }
}

function start(draft: Draft, command: Extract<WorkflowCommand, { type: 'start' }>): void {
  const state = draft.state;
  if (state.status !== 'idle') throw new CommandRejectedError('start', `Cannot start: workflow ${state.workflowId} already exists (${state.status})`);
  if (state.workflowId !== undefined && state.workflowId !== command.workflowId) {
    throw new CommandRejectedError('start', `Cannot start workflow ${command.workflowId} on the state of workflow ${state.workflowId}`);
  }
  if (command.workflowId.length === 0) throw new CommandRejectedError('start', 'Cannot start: the workflow id is empty');
  const priority = command.priority ?? 0;
  if (!prioritySchema.safeParse(priority).success) throw new CommandRejectedError('start', `Cannot start: priority must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${String(priority)}`);
  let prepared;
  try {
    prepared = prepareDefinition(command.definition);
  } catch (error) {
    if (error instanceof DefinitionError) throw new CommandRejectedError('start', `Cannot start: invalid definition: ${error.message}`, { cause: error });
    throw error;
  }
  const { definition, hash } = prepared;
  const missing = definition.input.required.filter((path) => !hasPath(command.input, path));
  if (missing.length > 0) throw new CommandRejectedError('start', `Cannot start: input is missing ${missing.map((p) => `"${p}"`).join(', ')}`);
  const input: Json = command.input;
  const data: Json = { ...definition.initialData, input };
  // The defaults (priority 0, admitted) are left out: such a start is stored as every start was before the backlog.
  emit(draft, 'WorkflowStarted', {
    workflowId: command.workflowId, at: draft.context.now, definition, definitionHash: hash, input, data,
    ...(priority === 0 ? {} : { priority }),
    ...(command.admit === false ? { queued: true as const } : {}),
  });
}

/**
 * Validation and hashing are pure, so their result is remembered per definition object: a runtime
 * that starts many workflows of one definition pays for them once.
 */
const preparedDefinitions = new WeakMap<object, { definition: WorkflowDefinition; hash: string }>();

function prepareDefinition(input: unknown): { definition: WorkflowDefinition; hash: string } {
  const cached = typeof input === 'object' && input !== null ? preparedDefinitions.get(input) : undefined;
  if (cached) return cached;
  const definition = validateDefinition(input);
  const prepared = { definition, hash: definitionHash(definition) };
  if (typeof input === 'object' && input !== null) preparedDefinitions.set(input, prepared);
  preparedDefinitions.set(definition, prepared);
  return prepared;
}

/** The step and its definition when the result or timer is for its current attempt, else undefined. */
function currentStep(state: WorkflowState, stepId: string): { state: ActiveWorkflowState; step: StepState; def: StepDefinition } | undefined {
  if (state.status === 'idle' || isTerminal(state.status)) return undefined;
  const index = state.graph.indexOf.get(stepId);
  if (index === undefined) return undefined;
  return { state, step: vget(state.steps, index), def: state.definition.steps[index] as StepDefinition };
}

function onStepResult(draft: Draft, stepId: string, attempt: number, outcome: Extract<Trigger, { kind: 'stepResult' }>['outcome']): void {
  const found = currentStep(draft.state, stepId);
  if (!found || found.step.status !== 'running' || found.step.attempt !== attempt) return;
  if (outcome.ok) recordSuccess(draft, found.def, found.step, outcome.output);
  else failAttempt(draft, found.def, attempt, found.step.agentId, outcome.error);
}

/** Records the remote task of the running attempt, once per task id, from the agent the attempt is on. */
function onTaskAccepted(draft: Draft, trigger: Extract<Trigger, { kind: 'taskAccepted' }>): void {
  const found = currentStep(draft.state, trigger.stepId);
  if (!found || found.step.status !== 'running' || found.step.attempt !== trigger.attempt) return;
  if (found.step.agentId !== trigger.agentId || found.step.taskId === trigger.taskId) return;
  const { stepId, attempt, agentId, taskId } = trigger;
  // Keyed by the revision: a re-send to another agent may get a second task for the same attempt.
  emit(draft, 'StepTaskAccepted', { workflowId: found.state.workflowId, at: draft.context.now, stepId, attempt, agentId, taskId }, { stepId, n: found.state.revision });
}

function onCompensationResult(draft: Draft, stepId: string, attempt: number, outcome: Extract<Trigger, { kind: 'compensationResult' }>['outcome']): void {
  const found = currentStep(draft.state, stepId);
  if (!found || found.state.status !== 'compensating') return;
  const c = found.step.compensation;
  if (c.status !== 'running' || c.attempt !== attempt) return;
  if (outcome.ok) recordCompensationSuccess(draft, found.def, found.step, outcome.output);
  else failCompensationAttempt(draft, found.def, attempt, c.agentId, outcome.error);
}

function onTimer(draft: Draft, timer: TimerRef): void {
  const found = currentStep(draft.state, timer.stepId);
  if (!found) return;
  const { step, def, state } = found;
  const { now } = draft.context;
  const c = step.compensation;
  switch (timer.kind) {
    case 'stepTimeout':
      if (step.status === 'running' && step.attempt === timer.attempt && now >= (step.deadline ?? 0)) recordTimeout(draft, def, step);
      return;
    case 'retryDue':
      if (state.status === 'running' && step.status === 'retryWaiting' && step.attempt + 1 === timer.attempt && now >= (step.notBefore ?? 0) && belowParallelLimit(state)) scheduleAttempt(draft, def, timer.attempt);
      return;
    case 'compensationTimeout':
      if (state.status === 'compensating' && c.status === 'running' && c.attempt === timer.attempt && now >= (c.deadline ?? 0)) {
        failCompensationAttempt(draft, def, c.attempt, c.agentId, { message: `Compensation attempt ${c.attempt} timed out`, code: 'TIMEOUT', retryable: true });
      }
      return;
    case 'agentWaitTimeout':
      if (state.status === 'running' && step.status === 'waitingForAgent' && step.attempt + 1 === timer.attempt && def.scheduleToStartTimeoutMs !== undefined && now >= (step.scheduledAt ?? 0) + def.scheduleToStartTimeoutMs) agentWaitTimedOut(draft, def, timer.attempt);
      return;
    case 'compensationRetryDue':
      if (state.status === 'compensating' && c.status === 'retryWaiting' && c.attempt + 1 === timer.attempt && now >= (c.notBefore ?? 0)) scheduleCompensation(draft, def, timer.attempt);
      return;
    default: {
      const unknown: never = timer.kind;
      throw new Error(`Unknown timer kind ${String(unknown)}`);
    }
  }
}

/**
 * Re-sends every call in flight under its key, to the same agent while it is still a candidate (an
 * agent that deduplicates on the key then answers the first delivery's outcome), else to the best
 * candidate. The attempt number does not change: a re-send is not a new attempt.
 */
function onResume(draft: Draft, reason: string): void {
  const state = draft.state;
  if (state.status === 'idle' || isTerminal(state.status)) return;
  const { now, candidates } = draft.context;
  // Ids must differ from an earlier resume of the same attempt: the revision decided from tells them apart.
  const round = state.revision;
  vtoArray(state.steps).forEach((step, index) => {
    const def = state.definition.steps[index] as StepDefinition;
    if (step.status === 'running') {
      emit(draft, 'StepResumed', {
        workflowId: state.workflowId, at: now, stepId: step.id, attempt: step.attempt, agentId: resumeAgent(candidates(def.capability), step.agentId),
        deadline: now + def.timeoutMs, idempotencyKey: step.idempotencyKey as string, reason,
      }, { stepId: step.id, n: round });
    }
    const c = step.compensation;
    if (c.status === 'running' && def.compensation) {
      emit(draft, 'CompensationResumed', {
        workflowId: state.workflowId, at: now, stepId: step.id, attempt: c.attempt, agentId: resumeAgent(candidates(def.compensation.capability ?? def.capability), c.agentId),
        deadline: now + (def.compensation.timeoutMs ?? def.timeoutMs), idempotencyKey: c.idempotencyKey as string, reason,
      }, { stepId: step.id, n: round });
    }
  });
}

function resumeAgent(candidates: readonly string[], previous: string | undefined): string {
  if (previous !== undefined && (candidates.includes(previous) || candidates.length === 0)) return previous;
  return candidates[0] ?? '';
}

/** A due retry over the parallelism limit waits: it is picked up when a running step settles. */
function belowParallelLimit(state: ActiveWorkflowState): boolean {
  const limit = state.definition.limits.maxParallelSteps;
  return limit === undefined || state.runningSteps < limit;
}
