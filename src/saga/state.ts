/**
 * The state of one workflow instance, as folded from its events by `evolve`. Immutable: every
 * event yields a new state that shares everything it did not change with the previous one.
 */
import type { Json } from '../workflow/json.js';
import type { WorkflowDefinition, StepDefinition, IdempotencyKeyScope } from '../workflow/definition.js';
import type { DefinitionGraph } from '../workflow/graph.js';
import type { CompensationCause, StepError } from './events.js';
import { vectorOf, vget, vtoArray, type Vector } from './vector.js';

export type WorkflowStatus =
  | 'idle' // no WorkflowStarted yet
  | 'queued' // started without a slot: waits in the backlog for WorkflowAdmitted (nothing runs)
  | 'running'
  | 'paused' // a step failed for good under the 'pause' strategy: waits for retry or compensate
  | 'compensating' // in-flight steps drain, then compensations run in reverse dependency order
  | 'completed'
  | 'failed'
  | 'compensated'
  | 'compensationFailed' // final unless an operator compensates again or resolves it
  | 'cancelled'
  | 'resolved'; // an operator recorded a manual resolution of a failed compensation (WorkflowResolved)

export type TerminalStatus = 'completed' | 'failed' | 'compensated' | 'compensationFailed' | 'cancelled' | 'resolved';

export type StepStatus =
  | 'pending' // not scheduled yet (or reset for a new round by a resume)
  | 'running' // an attempt is scheduled and its result is awaited
  | 'retryWaiting' // an attempt failed; the next one is due at `notBefore`
  | 'waitingForAgent' // the next attempt waits for an agent with the capability (since `scheduledAt`)
  | 'succeeded'
  | 'failed' // failed for good (no retry left, not retryable, or the workflow stopped retrying)
  | 'skipped' // an optional step that failed for good
  | 'abandoned'; // was waiting for a retry when the workflow stopped scheduling

export type CompensationStatus = 'none' | 'running' | 'retryWaiting' | 'waitingForAgent' | 'succeeded' | 'failed';

/** One attempt's call in flight (a step's or a compensation's). */
export interface CallProgress {
  /** Last attempt number used; 0 before the first. */
  readonly attempt: number;
  /** First attempt of the current round: the retry budget counts from here (a resume starts a round). */
  readonly roundStart: number;
  readonly agentId?: string;
  readonly input?: Json;
  /**
   * The idempotency key of the last attempt sent to an agent; undefined while none was sent. Once
   * set, the action may have taken effect (see `mayHaveTakenEffect`).
   */
  readonly idempotencyKey?: string;
  readonly scheduledAt?: number;
  /** While running: when the attempt times out. */
  readonly deadline?: number;
  /** While waiting for a retry: when the next attempt is due. */
  readonly notBefore?: number;
  readonly output?: Json;
  readonly lastError?: StepError;
}

export interface CompensationProgress extends CallProgress {
  readonly status: CompensationStatus;
}

export interface StepState extends CallProgress {
  readonly id: string;
  readonly status: StepStatus;
  /** While running: the remote task the agent accepted the attempt as (StepTaskAccepted), followed on a re-send. */
  readonly taskId?: string;
  readonly compensation: CompensationProgress;
}

export interface IdleWorkflowState {
  readonly status: 'idle';
  readonly workflowId?: string;
  /** Revision of the last folded event; -1 when none. */
  readonly revision: number;
}

export interface CompensationInfo {
  readonly cause: CompensationCause;
  readonly reason: string;
  readonly failedStepId?: string;
  readonly startedAt: number;
}

export interface ActiveWorkflowState {
  readonly status: Exclude<WorkflowStatus, 'idle'>;
  readonly workflowId: string;
  readonly revision: number;
  /** The definition snapshot from WorkflowStarted: a running workflow never changes shape. */
  readonly definition: WorkflowDefinition;
  readonly definitionHash: string;
  readonly graph: DefinitionGraph;
  readonly input: Json;
  /** Workflow data: initial data, `input`, and every output mapping applied so far. */
  readonly data: Json;
  /** When WorkflowStarted was decided: a queued workflow's age counts from here. */
  readonly startedAt: number;
  /** -100..100: admission order in the backlog (higher first, then older), and the order of its calls' waits at a full bulkhead. */
  readonly priority: number;
  /** Steps in definition order (see `stepStates`, `stepState`). */
  readonly steps: Vector<StepState>;
  /** Steps with status 'running'. */
  readonly runningSteps: number;
  /** Steps succeeded or skipped: the workflow completes when this reaches the step count. */
  readonly settledSteps: number;
  /** Steps whose compensation is running, waiting for a retry or for an agent: compensation cannot end while any is. */
  readonly openCompensations: number;
  /** Pause/resume rounds so far: part of the ids of WorkflowPaused and WorkflowResumed. */
  readonly pauseRound: number;
  readonly compensation?: CompensationInfo;
  /** Compensation rounds: 1 at the first CompensationStarted, +1 per CompensationRetried. Part of event ids. */
  readonly compensationRound: number;
  readonly lastError?: { readonly stepId?: string; readonly error: StepError };
  readonly endedAt?: number;
}

export type WorkflowState = IdleWorkflowState | ActiveWorkflowState;

export function initialState(workflowId?: string): WorkflowState {
  return workflowId === undefined ? { status: 'idle', revision: -1 } : { status: 'idle', workflowId, revision: -1 };
}

export function isTerminal(status: WorkflowStatus): status is TerminalStatus {
  switch (status) {
    case 'completed':
    case 'failed':
    case 'compensated':
    case 'compensationFailed':
    case 'cancelled':
    case 'resolved':
      return true;
    case 'idle':
    case 'queued':
    case 'running':
    case 'paused':
    case 'compensating':
      return false;
    default: {
      const unknown: never = status;
      throw new Error(`Unknown workflow status ${String(unknown)}`);
    }
  }
}

// Every field is always present (undefined when unknown): objects of one shape keep evolve's
// spreads on V8's fast path, which matters when folding long histories.
const noCompensation: CompensationProgress = {
  status: 'none', attempt: 0, roundStart: 1, agentId: undefined, input: undefined, idempotencyKey: undefined, scheduledAt: undefined,
  deadline: undefined, notBefore: undefined, output: undefined, lastError: undefined,
};

export function initialSteps(definition: WorkflowDefinition): Vector<StepState> {
  return vectorOf(definition.steps.map((step): StepState => ({
    id: step.id, status: 'pending', attempt: 0, roundStart: 1, agentId: undefined, input: undefined, idempotencyKey: undefined, scheduledAt: undefined,
    deadline: undefined, notBefore: undefined, output: undefined, lastError: undefined, taskId: undefined, compensation: noCompensation,
  })));
}

/** Every step's state, in definition order. */
export function stepStates(state: WorkflowState): StepState[] {
  return state.status === 'idle' ? [] : vtoArray(state.steps);
}

/** One step's state, or undefined for an unknown step (or an idle workflow). */
export function stepState(state: WorkflowState, stepId: string): StepState | undefined {
  if (state.status === 'idle') return undefined;
  const index = state.graph.indexOf.get(stepId);
  return index === undefined ? undefined : vget(state.steps, index);
}

export function stepDefinition(state: ActiveWorkflowState, stepId: string): StepDefinition | undefined {
  const index = state.graph.indexOf.get(stepId);
  return index === undefined ? undefined : state.definition.steps[index];
}

export type TimerKind = 'stepTimeout' | 'retryDue' | 'compensationTimeout' | 'compensationRetryDue' | 'agentWaitTimeout';

/** Names a durable timer: the attempt it belongs to (for `retryDue`, the attempt it will start). */
export interface TimerRef {
  readonly kind: TimerKind;
  readonly stepId: string;
  readonly attempt: number;
}

export interface PendingTimer extends TimerRef {
  /** Epoch ms when it fires. */
  readonly dueAt: number;
}

/**
 * The timers a live workflow is waiting for, from its state alone: after a crash the runtime
 * rebuilds its timer wheel from these. Empty for idle, paused-without-timers and terminal states.
 */
export function pendingTimers(state: WorkflowState): PendingTimer[] {
  if (state.status === 'idle' || isTerminal(state.status)) return [];
  const timers: PendingTimer[] = [];
  for (const step of vtoArray(state.steps)) addStepTimers(state, step, timers);
  return timers;
}

/**
 * `pendingTimers` of the named steps only (unknown ids are passed over): after events that each
 * changed one step, only those steps' timers can have changed (see `stepsChangedBy`), and the
 * runtime need not look at the thousands of others.
 */
export function pendingTimersOf(state: WorkflowState, stepIds: Iterable<string>): PendingTimer[] {
  if (state.status === 'idle' || isTerminal(state.status)) return [];
  const timers: PendingTimer[] = [];
  for (const stepId of stepIds) {
    const index = state.graph.indexOf.get(stepId);
    if (index !== undefined) addStepTimers(state, vget(state.steps, index), timers);
  }
  return timers;
}

function addStepTimers(state: ActiveWorkflowState, step: StepState, timers: PendingTimer[]): void {
  if (step.status === 'running' && step.deadline !== undefined) timers.push({ kind: 'stepTimeout', stepId: step.id, attempt: step.attempt, dueAt: step.deadline });
  if (step.status === 'retryWaiting' && step.notBefore !== undefined) timers.push({ kind: 'retryDue', stepId: step.id, attempt: step.attempt + 1, dueAt: step.notBefore });
  if (step.status === 'waitingForAgent') {
    const limit = state.definition.steps[state.graph.indexOf.get(step.id) ?? -1]?.scheduleToStartTimeoutMs;
    if (limit !== undefined) timers.push({ kind: 'agentWaitTimeout', stepId: step.id, attempt: step.attempt + 1, dueAt: (step.scheduledAt ?? 0) + limit });
  }
  const comp = step.compensation;
  if (comp.status === 'running' && comp.deadline !== undefined) timers.push({ kind: 'compensationTimeout', stepId: step.id, attempt: comp.attempt, dueAt: comp.deadline });
  if (comp.status === 'retryWaiting' && comp.notBefore !== undefined) timers.push({ kind: 'compensationRetryDue', stepId: step.id, attempt: comp.attempt + 1, dueAt: comp.notBefore });
}

/** An agent call the workflow awaits: what the runtime re-sends after a crash (at-least-once). */
export interface InFlightCall {
  readonly kind: 'step' | 'compensation';
  readonly stepId: string;
  readonly attempt: number;
  readonly agentId: string;
  readonly action: string;
  readonly capability: string;
  readonly input: Json;
  readonly deadline: number;
  readonly idempotencyKey: string;
  /** Compensations only: the keys under which the step's action may have run. */
  readonly compensates?: readonly string[];
  /** Steps only: the remote task already accepted for this attempt (StepTaskAccepted): follow it, do not send again. */
  readonly taskId?: string;
}

/**
 * The idempotency key of a step's action. One per logical operation by default, the same for every
 * attempt and every re-send after a crash, so an agent that honours it makes the action take effect
 * once; a step whose definition asks for `perAttempt` keys gets one per attempt.
 */
export function stepIdempotencyKey(workflowId: string, stepId: string, scope: IdempotencyKeyScope, attempt: number): string {
  return scope === 'perAttempt' ? `${workflowId}:${stepId}:${attempt}` : `${workflowId}:${stepId}`;
}

/** The idempotency key of a step's compensation: one per step, whatever its attempts. */
export function compensationIdempotencyKey(workflowId: string, stepId: string): string {
  return `${workflowId}:${stepId}:compensate`;
}

/** Does anything of the workflow wait for an agent to become available? */
export function waitsForAgents(state: WorkflowState): boolean {
  if (state.status === 'idle' || isTerminal(state.status)) return false;
  for (const step of vtoArray(state.steps)) if (step.status === 'waitingForAgent' || step.compensation.status === 'waitingForAgent') return true;
  return false;
}

/** True once an attempt of the step was sent to an agent: from then on its action may have taken effect. */
export function mayHaveTakenEffect(step: StepState): boolean {
  return step.idempotencyKey !== undefined;
}

/** The keys under which the step's action may have taken effect, oldest first: what its compensation undoes. */
export function stepActionKeys(workflowId: string, def: StepDefinition, step: StepState): string[] {
  if (!mayHaveTakenEffect(step)) return [];
  if (def.idempotencyKey !== 'perAttempt') return [step.idempotencyKey as string];
  return Array.from({ length: step.attempt }, (_, k) => stepIdempotencyKey(workflowId, def.id, 'perAttempt', k + 1));
}

/** The call a running step or compensation awaits, or undefined when it awaits none. */
export function inFlightCall(state: ActiveWorkflowState, kind: InFlightCall['kind'], stepId: string): InFlightCall | undefined {
  const index = state.graph.indexOf.get(stepId);
  if (index === undefined) return undefined;
  const step = vget(state.steps, index);
  const def = state.definition.steps[index] as StepDefinition;
  if (kind === 'step') {
    if (step.status !== 'running') return undefined;
    const call: InFlightCall = { kind, stepId, attempt: step.attempt, agentId: step.agentId ?? '', action: def.action, capability: def.capability, input: step.input ?? null, deadline: step.deadline ?? 0, idempotencyKey: step.idempotencyKey ?? stepIdempotencyKey(state.workflowId, stepId, def.idempotencyKey, step.attempt) };
    return step.taskId === undefined ? call : { ...call, taskId: step.taskId };
  }
  const comp = step.compensation;
  if (comp.status !== 'running' || !def.compensation) return undefined;
  return {
    kind, stepId, attempt: comp.attempt, agentId: comp.agentId ?? '', action: def.compensation.action, capability: def.compensation.capability ?? def.capability,
    input: comp.input ?? null, deadline: comp.deadline ?? 0, idempotencyKey: comp.idempotencyKey ?? compensationIdempotencyKey(state.workflowId, stepId),
    compensates: stepActionKeys(state.workflowId, def, step),
  };
}

export function inFlightCalls(state: WorkflowState): InFlightCall[] {
  if (state.status === 'idle' || isTerminal(state.status)) return [];
  const calls: InFlightCall[] = [];
  for (const step of vtoArray(state.steps)) {
    const call = step.status === 'running' ? inFlightCall(state, 'step', step.id) : undefined;
    if (call) calls.push(call);
    const compensation = step.compensation.status === 'running' ? inFlightCall(state, 'compensation', step.id) : undefined;
    if (compensation) calls.push(compensation);
  }
  return calls;
}
