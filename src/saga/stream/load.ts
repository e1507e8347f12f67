/**
 * Loading a workflow: its state at any point of its history, folded with the core's `evolve` from
 * its stream, read as a stream (paged, never loaded whole). `replaySteps` yields every transition as
 * it is applied; `replayWorkflow` returns the state at the end point. The runtime's cache, replay,
 * fork, the operator commands and the engine's queries all load through here.
 */
import { evolve } from '../evolve.js';
import type { WorkflowEvent } from '../events.js';
import { initialState, type WorkflowState } from '../state.js';
import type { EventStore, RecordedEvent } from '../../store/port.js';
import { fromRecorded } from './codec.js';
import { definitionsReady } from './definitions.js';
import { workflowStream } from './names.js';

/** Where a replay stops: at a revision (inclusive), or after the last event recorded at or before a time. */
export type ReplayUntil = { readonly revision: bigint } | { readonly time: Date };

export interface ReplayStep {
  readonly recorded: RecordedEvent;
  readonly event: WorkflowEvent;
  readonly state: WorkflowState;
}

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
  for await (const recorded of store.readStream(workflowStream(workflowId), maxCount === undefined ? {} : { maxCount })) {
    if (until && 'time' in until && recorded.created.getTime() > until.time.getTime()) return;
    const ready = definitionsReady(store, recorded);
    if (ready) await ready;
    const event = fromRecorded(recorded);
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
