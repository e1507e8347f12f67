/**
 * Replay: a workflow's state at any point of its history, folded with the core's `evolve` from its
 * stream, read as a stream (paged, never loaded whole). `replaySteps` yields every transition as it
 * is applied; `replayWorkflow` returns the state at the end point.
 */
import { evolve } from '../saga/evolve.js';
import { parseWorkflowEvent, type WorkflowEvent } from '../saga/events.js';
import { initialState, stepStates, type WorkflowState } from '../saga/state.js';
import type { EventStore, RecordedEvent } from '../store/port.js';
import type { Json } from '../workflow/json.js';

/** Where a replay stops: at a revision (inclusive), or after the last event recorded at or before a time. */
export type ReplayUntil = { readonly revision: bigint } | { readonly time: Date };

export interface ReplayStep {
  readonly recorded: RecordedEvent;
  readonly event: WorkflowEvent;
  readonly state: WorkflowState;
}

export const workflowStreamOf = (workflowId: string): string => `workflow-${workflowId}`;

/** `"12"` is a revision, anything else must be an ISO 8601 time. Undefined for neither. */
export function parseReplayUntil(text: string): ReplayUntil | undefined {
  if (/^\d+$/.test(text)) return { revision: BigInt(text) };
  const time = Date.parse(text);
  return Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}/.test(text) ? undefined : { time: new Date(time) };
}

/** Throws the store's StreamNotFoundError for an unknown workflow, EventParseError for an unreadable event. */
export async function* replaySteps(store: EventStore, workflowId: string, until?: ReplayUntil): AsyncGenerator<ReplayStep> {
  const maxCount = until && 'revision' in until ? until.revision + 1n : undefined;
  let state: WorkflowState = initialState(workflowId);
  for await (const recorded of store.readStream(workflowStreamOf(workflowId), maxCount === undefined ? {} : { maxCount })) {
    if (until && 'time' in until && recorded.created.getTime() > until.time.getTime()) return;
    const event = parseWorkflowEvent(recorded.type, recorded.data, recorded.metadata, recorded.id);
    state = evolve(state, event);
    yield { recorded, event, state };
  }
}

export interface ReplayResult {
  readonly state: WorkflowState;
  /** Events folded. */
  readonly events: number;
  readonly last: RecordedEvent | undefined;
}

export async function replayWorkflow(store: EventStore, workflowId: string, until?: ReplayUntil, onStep?: (step: ReplayStep) => void): Promise<ReplayResult> {
  let state: WorkflowState = initialState(workflowId);
  let events = 0;
  let last: RecordedEvent | undefined;
  for await (const step of replaySteps(store, workflowId, until)) {
    onStep?.(step);
    state = step.state;
    last = step.recorded;
    events += 1;
  }
  return { state, events, last };
}

/** A JSON-friendly summary of a folded state (the state itself holds a graph and persistent vectors). */
export interface StateSummary {
  readonly workflowId: string | undefined;
  readonly status: WorkflowState['status'];
  readonly revision: number;
  readonly definition?: { readonly name: string; readonly version: number; readonly hash: string };
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly steps: readonly {
    readonly id: string;
    readonly status: string;
    readonly attempt: number;
    readonly agentId?: string;
    readonly compensation: string;
    readonly output?: Json;
    readonly lastError?: string;
  }[];
  readonly data?: Json;
  readonly compensation?: { readonly cause: string; readonly reason: string; readonly failedStepId?: string };
  readonly lastError?: { readonly stepId?: string; readonly message: string };
}

export function summariseState(state: WorkflowState): StateSummary {
  if (state.status === 'idle') return { workflowId: state.workflowId, status: 'idle', revision: state.revision, steps: [] };
  return {
    workflowId: state.workflowId,
    status: state.status,
    revision: state.revision,
    definition: { name: state.definition.name, version: state.definition.version, hash: state.definitionHash },
    startedAt: new Date(state.startedAt).toISOString(),
    ...(state.endedAt === undefined ? {} : { endedAt: new Date(state.endedAt).toISOString() }),
    steps: stepStates(state).map((step) => ({
      id: step.id,
      status: step.status,
      attempt: step.attempt,
      ...(step.agentId === undefined ? {} : { agentId: step.agentId }),
      compensation: step.compensation.status,
      ...(step.output === undefined ? {} : { output: step.output }),
      ...(step.lastError === undefined ? {} : { lastError: step.lastError.message }),
    })),
    data: state.data,
    ...(state.compensation === undefined
      ? {}
      : { compensation: { cause: state.compensation.cause, reason: state.compensation.reason, ...(state.compensation.failedStepId === undefined ? {} : { failedStepId: state.compensation.failedStepId }) } }),
    ...(state.lastError === undefined ? {} : { lastError: { ...(state.lastError.stepId === undefined ? {} : { stepId: state.lastError.stepId }), message: state.lastError.error.message } }),
  };
}

/** One line per transition, for `replay --step`. */
export function describeTransition(step: ReplayStep): string {
  const { recorded, event, state } = step;
  const data = event.data as { stepId?: string; attempt?: number; agentId?: string };
  const what = [data.stepId, data.attempt === undefined ? undefined : `#${data.attempt}`, data.agentId === undefined ? undefined : `@${data.agentId}`].filter(Boolean).join(' ');
  const steps = stepStates(state);
  const settled = steps.filter((s) => s.status === 'succeeded' || s.status === 'skipped').length;
  return `${String(recorded.revision).padStart(5)}  ${recorded.created.toISOString()}  ${event.type.padEnd(26)} ${what.padEnd(36)} -> ${state.status} (${settled}/${steps.length})`;
}
