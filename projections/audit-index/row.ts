/**
 * The audit index's pure part: the generic fields of one recorded event that audit queries filter
 * on. Nothing here is workflow-specific: any event of any stream is indexed, with the ids taken
 * from metadata first (the engine writes them there), then from data, then from the stream name.
 */
import type { Json, JsonObject, Position, RecordedEvent } from '../../src/store/port.js';

export interface AuditRow {
  readonly position: Position;
  readonly eventId: string;
  readonly stream: string;
  /** The stream name up to its first `-` (EventStoreDB's category), else the whole name. */
  readonly category: string;
  readonly revision: bigint;
  readonly type: string;
  /** When the store recorded the event, epoch ms. */
  readonly time: number;
  readonly workflowId: string | null;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly agentId: string | null;
  readonly stepId: string | null;
}

export function streamCategory(stream: string): string {
  const dash = stream.indexOf('-');
  return dash <= 0 ? stream : stream.slice(0, dash);
}

function stringField(object: Json | Uint8Array | undefined, key: string): string | null {
  if (object === null || typeof object !== 'object' || Array.isArray(object) || object instanceof Uint8Array) return null;
  const value = (object as JsonObject)[key];
  return typeof value === 'string' && value !== '' ? value : null;
}

function idFromStream(stream: string, category: string, wanted: string): string | null {
  return category === wanted && stream.length > wanted.length + 1 ? stream.slice(wanted.length + 1) : null;
}

export function auditRowOf(event: RecordedEvent): AuditRow {
  const { metadata, data, stream } = event;
  const category = streamCategory(stream);
  const workflowId = stringField(metadata, 'workflowId') ?? stringField(data, 'workflowId') ?? idFromStream(stream, category, 'workflow');
  return {
    position: event.position,
    eventId: event.id,
    stream,
    category,
    revision: event.revision,
    type: event.type,
    time: event.created.getTime(),
    workflowId,
    // A workflow's events carry a correlation only when it is not the workflow id (the default).
    correlationId: stringField(metadata, 'correlationId') ?? stringField(metadata, '$correlationId') ?? (category === 'workflow' ? workflowId : null),
    causationId: stringField(metadata, 'causationId') ?? stringField(metadata, '$causationId'),
    agentId: stringField(data, 'agentId') ?? stringField(metadata, 'agentId') ?? idFromStream(stream, category, 'agent'),
    stepId: stringField(data, 'stepId') ?? stringField(metadata, 'stepId'),
  };
}
