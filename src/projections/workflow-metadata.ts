/**
 * The metadata every workflow event carries when cadenza appends it (the same fields the runtime
 * writes): schema version, workflow id, correlation and causation, definition hash.
 */
import { eventSchemaVersions, type WorkflowEvent } from '../saga/events.js';
import type { EventData, Json, JsonObject } from '../store/port.js';

export interface DecisionContextIds {
  readonly correlationId: string;
  /** Id of the event (or command) the first event of the decision follows from. */
  readonly causationId: string;
  readonly definitionHash: string;
  /** Extra metadata on the first event of the decision (e.g. what a fork was forked from). */
  readonly extra?: JsonObject;
}

/** Events of one decision as store events; each event is caused by the one before it. */
export function decisionToEventData(events: readonly WorkflowEvent[], ids: DecisionContextIds): EventData[] {
  let causationId = ids.causationId;
  return events.map((event, index) => {
    const metadata: JsonObject = {
      ...(index === 0 ? ids.extra : {}),
      schemaVersion: eventSchemaVersions[event.type],
      workflowId: event.data.workflowId,
      correlationId: ids.correlationId,
      causationId,
      definitionHash: ids.definitionHash,
    };
    causationId = event.id;
    return { id: event.id, type: event.type, data: event.data as unknown as Json, metadata };
  });
}
