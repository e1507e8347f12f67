/**
 * Between the pure core's events and the store's: the metadata a stored workflow event carries, and
 * the way back (upcast and validated). Metadata holds only what is neither in the stream name nor in
 * the data: the causation, the correlation when it is not the workflow id, the schema version when
 * it is not 1 (what the fork was forked from, on a fork's first event). The workflow id is the
 * stream's and the data's; the definition hash is WorkflowStarted's. A WorkflowStarted is stored
 * without its definition, which is stored once per hash (definitions.ts) and put back on read; a
 * scheduled call without its idempotency key when it is the operation's default, put back on read.
 *
 * Causation: every event of one decision names the same cause, the event (or command) the decision
 * was made for; a decision's events are one fact, appended atomically.
 */
import { metadataObject, type EventData, type JsonObject, type RecordedEvent } from '../../store/port.js';
import type { Json } from '../../workflow/json.js';
import { eventSchemaVersions, parseWorkflowEvent, type WorkflowEvent } from '../events.js';
import { compensationIdempotencyKey, stepIdempotencyKey } from '../state.js';
import { knownDefinition } from './definitions.js';
import { workflowIdOf } from './names.js';

export interface EventContext {
  /** Written only when it is not the workflow id (the default correlation). */
  readonly correlationId: string;
  /** Id of the event (or command) that led to this decision. */
  readonly causationId: string;
  /** Extra metadata on the first event of the decision (what a fork was forked from). */
  readonly extra?: JsonObject;
}

export function toEventData(event: WorkflowEvent, context: EventContext): EventData {
  const metadata: JsonObject = context.extra === undefined ? { causationId: context.causationId } : { ...context.extra, causationId: context.causationId };
  if (context.correlationId !== event.data.workflowId) metadata.correlationId = context.correlationId;
  const version = eventSchemaVersions[event.type];
  if (version !== 1) metadata.schemaVersion = version;
  if (event.type === 'WorkflowStarted') {
    // By reference: the definition itself is stored once per hash (saveDefinition, before this append).
    const { definition: _stored, ...data } = event.data;
    return { id: event.id, type: event.type, data: data as unknown as Json, metadata };
  }
  if ((event.type === 'StepScheduled' || event.type === 'CompensationScheduled') && event.data.idempotencyKey === defaultKey(event.type, event.data)) {
    // The operation's own key (`workflowId:stepId[:compensate]`) follows from the data: put back on read.
    const { idempotencyKey: _default, ...data } = event.data;
    return { id: event.id, type: event.type, data: data as unknown as Json, metadata };
  }
  // Step and agent ids are in the data already (the audit index reads them there): not repeated here.
  return { id: event.id, type: event.type, data: event.data as unknown as Json, metadata };
}

/** The events of one decision as store events, all with the decision's context. */
export function toEventDataList(events: readonly WorkflowEvent[], context: EventContext): EventData[] {
  const data: EventData[] = new Array(events.length);
  const rest = context.extra === undefined ? context : { correlationId: context.correlationId, causationId: context.causationId };
  for (let i = 0; i < events.length; i++) data[i] = toEventData(events[i] as WorkflowEvent, i === 0 ? context : rest);
  return data;
}

/**
 * Reads a stored event as a workflow event (upcast and validated); throws `EventParseError`. A
 * WorkflowStarted that refers to its definition needs it in memory: await `definitionsReady` first.
 */
export function fromRecorded(recorded: RecordedEvent): WorkflowEvent {
  return parseWorkflowEvent(recorded.type, withDefaultKey(recorded), recorded.metadata, recorded.id, knownDefinition);
}

/** The key a scheduled call has unless it says otherwise (a `perAttempt` step, or an event from before keys named the operation). */
function defaultKey(type: 'StepScheduled' | 'CompensationScheduled', data: { readonly workflowId: string; readonly stepId: string }): string {
  return type === 'StepScheduled' ? stepIdempotencyKey(data.workflowId, data.stepId, 'perOperation', 0) : compensationIdempotencyKey(data.workflowId, data.stepId);
}

function withDefaultKey(recorded: RecordedEvent): unknown {
  const { type, data } = recorded;
  if (type !== 'StepScheduled' && type !== 'CompensationScheduled') return data;
  if (data === null || typeof data !== 'object' || Array.isArray(data) || data instanceof Uint8Array || 'idempotencyKey' in data) return data;
  const { workflowId, stepId } = data;
  if (typeof workflowId !== 'string' || typeof stepId !== 'string') return data; // invalid: the parse says what is wrong
  return { ...data, idempotencyKey: defaultKey(type, { workflowId, stepId }) };
}

/** The correlation id in the metadata, else the workflow id of a workflow stream (the default, not written). */
export function correlationIdOf(recorded: RecordedEvent): string | undefined {
  const value = metadataObject(recorded.metadata).correlationId;
  return typeof value === 'string' ? value : workflowIdOf(recorded.stream);
}

/** A recorded workflow event as the read models fold it. */
export interface WorkflowInput {
  readonly event: WorkflowEvent;
  readonly revision: number;
  readonly correlationId: string | undefined;
}

/**
 * For the read models: undefined for another stream's event; unknown types and versions throw
 * (the projection runner records them as poison).
 */
export function decodeWorkflowEvent(recorded: RecordedEvent): WorkflowInput | undefined {
  if (workflowIdOf(recorded.stream) === undefined) return undefined;
  return { event: fromRecorded(recorded), revision: Number(recorded.revision), correlationId: correlationIdOf(recorded) };
}
