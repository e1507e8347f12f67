/**
 * The state of one workflow instance, as folded from its events by `evolve`. Immutable: every
 * event yields a new state that shares everything it did not change with the previous one.
 */
import type { Json } from '../workflow/json.js';
import type { WorkflowDefinition, StepDefinition } from '../workflow/definition.js';
import type { DefinitionGraph } from '../workflow/graph.js';
import type { CompensationCause, StepError } from './events.js';
import { vectorOf, vget, vtoArray, type Vector } from './vector.js';

export type WorkflowStatus =
  | 'idle' // no WorkflowStarted yet
  | 'running'
  | 'paused' // a step failed for good under the 'pause' strategy: waits for retry or compensate
  | 'compensating' // in-flight steps drain, then compensations run in reverse dependency order
  | 'completed'
  | 'failed'
  | 'compensated'
  | 'compensationFailed'
  | 'cancelled';

export type TerminalStatus = 'completed' | 'failed' | 'compensated' | 'compensationFailed' | 'cancelled';

export type StepStatus =
  | 'pending' // not scheduled yet (or reset for a new round by a resume)
  | 'running' // an attempt is scheduled and its result is awaited
  | 'retryWaiting' // an attempt failed; the next one is due at `notBefore`
  | 'succeeded'
  | 'failed' // failed for good (no retry left, not retryable, or the workflow stopped retrying)
  | 'skipped' // an optional step that failed for good
  | 'abandoned'; // was waiting for a retry when the workflow stopped scheduling

export type CompensationStatus = 'none' | 'running' | 'retryWaiting' | 'succeeded' | 'failed';

/** One attempt's call in flight (a step's or a compensation's). */
export interface CallProgress {
  /** Last attempt number used; 0 before the first. */
  readonly attempt: number;
  /** First attempt of the current round: the retry budget counts from here (a resume starts a round). */
  readonly roundStart: number;
  readonly agentId?: string;
  readonly input?: Json;
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
  readonly startedAt: number;
  /** Steps in definition order (see `stepStates`, `stepState`). */
  readonly steps: Vector<StepState>;
  /** Steps with status 'running'. */
  readonly runningSteps: number;
  /** Steps succeeded or skipped: the workflow completes when this reaches the step count. */
  readonly settledSteps: number;
  /** Pause/resume rounds so far: part of the ids of WorkflowPaused and WorkflowResumed. */
  readonly pauseRound: number;
  readonly compensation?: CompensationInfo;
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
      return true;
    case 'idle':
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
  status: 'none', attempt: 0, roundStart: 1, agentId: undefined, input: undefined, scheduledAt: undefined,
  deadline: undefined, notBefore: undefined, output: undefined, lastError: undefined,
};

export function initialSteps(definition: WorkflowDefinition): Vector<StepState> {
  return vectorOf(definition.steps.map((step): StepState => ({
    id: step.id, status: 'pending', attempt: 0, roundStart: 1, agentId: undefined, input: undefined, scheduledAt: undefined,
    deadline: undefined, notBefore: undefined, output: undefined, lastError: undefined, compensation: noCompensation,
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

export type TimerKind = 'stepTimeout' | 'retryDue' | 'compensationTimeout' | 'compensationRetryDue';

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
  for (const step of vtoArray(state.steps)) {
    if (step.status === 'running' && step.deadline !== undefined) timers.push({ kind: 'stepTimeout', stepId: step.id, attempt: step.attempt, dueAt: step.deadline });
    if (step.status === 'retryWaiting' && step.notBefore !== undefined) timers.push({ kind: 'retryDue', stepId: step.id, attempt: step.attempt + 1, dueAt: step.notBefore });
    const comp = step.compensation;
    if (comp.status === 'running' && comp.deadline !== undefined) timers.push({ kind: 'compensationTimeout', stepId: step.id, attempt: comp.attempt, dueAt: comp.deadline });
    if (comp.status === 'retryWaiting' && comp.notBefore !== undefined) timers.push({ kind: 'compensationRetryDue', stepId: step.id, attempt: comp.attempt + 1, dueAt: comp.notBefore });
  }
  return timers;
}

/** An agent call the workflow awaits: what the runtime re-dispatches after a crash (at-least-once). */
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
}

export function stepIdempotencyKey(workflowId: string, stepId: string, attempt: number): string {
  return `${workflowId}:${stepId}:${attempt}`;
}

export function compensationIdempotencyKey(workflowId: string, stepId: string, attempt: number): string {
  return `${workflowId}:${stepId}:compensate:${attempt}`;
}

export function inFlightCalls(state: WorkflowState): InFlightCall[] {
  if (state.status === 'idle' || isTerminal(state.status)) return [];
  const calls: InFlightCall[] = [];
  vtoArray(state.steps).forEach((step, i) => {
    const def = state.definition.steps[i] as StepDefinition;
    if (step.status === 'running') {
      calls.push({ kind: 'step', stepId: step.id, attempt: step.attempt, agentId: step.agentId ?? '', action: def.action, capability: def.capability, input: step.input ?? null, deadline: step.deadline ?? 0, idempotencyKey: stepIdempotencyKey(state.workflowId, step.id, step.attempt) });
    }
    const comp = step.compensation;
    if (comp.status === 'running' && def.compensation) {
      calls.push({ kind: 'compensation', stepId: step.id, attempt: comp.attempt, agentId: comp.agentId ?? '', action: def.compensation.action, capability: def.compensation.capability ?? def.capability, input: comp.input ?? null, deadline: comp.deadline ?? 0, idempotencyKey: compensationIdempotencyKey(state.workflowId, step.id, comp.attempt) });
    }
  });
  return calls;
}
