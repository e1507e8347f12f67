/**
 * Between the pure core's events and the store's: the `workflow-<id>` stream name, and the metadata
 * every stored workflow event carries (correlation, causation, workflow id, definition hash,
 * schema version), so a single event read from `$all` can be traced without its neighbours.
 */
import type { EventData, JsonObject, RecordedEvent } from '../../store/port.js';
import type { Json } from '../../workflow/json.js';
import { eventSchemaVersions, parseWorkflowEvent, type WorkflowEvent } from '../events.js';

export const WORKFLOW_STREAM_PREFIX = 'workflow-';

const MAX_WORKFLOW_ID_LENGTH = 200;
const workflowIdPattern = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,${MAX_WORKFLOW_ID_LENGTH - 1}}$`);

export class InvalidWorkflowIdError extends Error {
  constructor(readonly workflowId: string) {
    // Shown escaped and shortened: the id is what was wrong, and may hold a newline or be huge.
    const shown = JSON.stringify(workflowId.length > 40 ? `${workflowId.slice(0, 40)}…` : workflowId);
    super(
      workflowId.length > MAX_WORKFLOW_ID_LENGTH
        ? `Invalid workflow id ${shown}: it is ${workflowId.length} characters long, the maximum is ${MAX_WORKFLOW_ID_LENGTH}`
        : `Invalid workflow id ${shown}: use 1-${MAX_WORKFLOW_ID_LENGTH} letters, digits, ".", "_", ":" or "-", starting with a letter or digit`,
    );
    this.name = 'InvalidWorkflowIdError';
  }
}

export function assertWorkflowId(workflowId: string): void {
  if (!workflowIdPattern.test(workflowId)) throw new InvalidWorkflowIdError(workflowId);
}

export function workflowStream(workflowId: string): string {
  return `${WORKFLOW_STREAM_PREFIX}${workflowId}`;
}

/** The workflow id of a `workflow-<id>` stream, or undefined for any other stream. */
export function workflowIdOf(stream: string): string | undefined {
  return stream.startsWith(WORKFLOW_STREAM_PREFIX) ? stream.slice(WORKFLOW_STREAM_PREFIX.length) : undefined;
}

export interface EventContext {
  readonly correlationId: string;
  /** Id of the event (or command) that led to this decision. */
  readonly causationId: string;
  readonly definitionHash: string;
}

export function toEventData(event: WorkflowEvent, context: EventContext): EventData {
  const metadata: JsonObject = {
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
  for (let i = 0; i < events.length; i++) data[i] = toEventData(events[i] as WorkflowEvent, context);
  return data;
}

/** Reads a stored event as a workflow event (upcast and validated); throws `EventParseError`. */
export function fromRecorded(recorded: RecordedEvent): WorkflowEvent {
  return parseWorkflowEvent(recorded.type, recorded.data, recorded.metadata, recorded.id);
}

export function correlationIdOf(recorded: RecordedEvent): string | undefined {
  const value = recorded.metadata.correlationId;
  return typeof value === 'string' ? value : undefined;
}
