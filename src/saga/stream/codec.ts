/**
 * Between the pure core's events and the store's: the metadata every stored workflow event carries
 * (correlation, causation, workflow id, definition hash, schema version), so a single event read
 * from `$all` can be traced without its neighbours, and the way back (upcast and validated).
 *
 * Causation: every event of one decision names the same cause, the event (or command) the decision
 * was made for; a decision's events are one fact, appended atomically.
 */
import { metadataObject, type EventData, type JsonObject, type RecordedEvent } from '../../store/port.js';
import type { Json } from '../../workflow/json.js';
import { eventSchemaVersions, parseWorkflowEvent, type WorkflowEvent } from '../events.js';
import { workflowIdOf } from './names.js';

export interface EventContext {
  readonly correlationId: string;
  /** Id of the event (or command) that led to this decision. */
  readonly causationId: string;
  readonly definitionHash: string;
  /** Extra metadata on the first event of the decision (what a fork was forked from). */
  readonly extra?: JsonObject;
}

export function toEventData(event: WorkflowEvent, context: EventContext): EventData {
  const metadata: JsonObject = {
    ...context.extra,
    workflowId: event.data.workflowId,
    correlationId: context.correlationId,
    causationId: context.causationId,
    definitionHash: context.definitionHash,
    schemaVersion: eventSchemaVersions[event.type],
  };
  // Step and agent ids are in the data already (the audit index reads them there): not repeated here.
  return { id: event.id, type: event.type, data: event.data as unknown as Json, metadata };
}

/** The events of one decision as store events, all with the decision's context. */
export function toEventDataList(events: readonly WorkflowEvent[], context: EventContext): EventData[] {
  const data: EventData[] = new Array(events.length);
  const rest = context.extra === undefined ? context : { correlationId: context.correlationId, causationId: context.causationId, definitionHash: context.definitionHash };
  for (let i = 0; i < events.length; i++) data[i] = toEventData(events[i] as WorkflowEvent, i === 0 ? context : rest);
  return data;
}

/** Reads a stored event as a workflow event (upcast and validated); throws `EventParseError`. */
export function fromRecorded(recorded: RecordedEvent): WorkflowEvent {
  return parseWorkflowEvent(recorded.type, recorded.data, recorded.metadata, recorded.id);
}

export function correlationIdOf(recorded: RecordedEvent): string | undefined {
  const value = metadataObject(recorded.metadata).correlationId;
  return typeof value === 'string' ? value : undefined;
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
