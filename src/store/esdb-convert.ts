/** Conversions between @eventstore/db-client's event and metadata shapes and the port's. */
import { binaryEvent, jsonEvent, type EventData as ClientEventData, type JSONType, type ResolvedEvent, type StreamMetadata as ClientStreamMetadata } from '@eventstore/db-client';
import type { EventBody, EventData, EventMetadata, Json, JsonObject, Position, RecordedEvent, StreamMetadata } from './port.js';
import type { SerializedEvent } from './validation.js';

const NO_POSITION: Position = Object.freeze({ commit: -1n, prepare: -1n });

/** Events as the client proposes them (`serialized` are the same, validated): binary events for bytes, else JSON events. */
export function toClientEvents(events: readonly EventData[], serialized: readonly SerializedEvent[]): ClientEventData[] {
  return serialized.map(({ id, type, data, metadata }, index) => {
    const given = events[index];
    const withMetadata = metadata === null ? {} : { metadata: metadata instanceof Uint8Array ? metadata : given?.metadata as JSONType };
    if (data instanceof Uint8Array) return binaryEvent({ id, type, data, ...withMetadata });
    // The client's JSONType leaves out null, numbers and booleans, which it serialises all the same.
    return jsonEvent({ id, type, data: given?.data as JSONType, ...withMetadata });
  });
}

function bodyOf(value: unknown): EventBody {
  // A JSON event whose data the client could not parse arrives as its text: kept as that string.
  return (value ?? null) as EventBody;
}

/**
 * The client parses custom metadata as JSON whenever it can and hands over bytes otherwise. An
 * object is the port's JSON metadata; any other JSON value was bytes that happened to parse: its
 * text again.
 */
function metadataOf(value: unknown): EventMetadata {
  if (value === undefined || value === null) return {};
  if (value instanceof Uint8Array) return value;
  if (typeof value !== 'object' || Array.isArray(value)) return new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8'));
  return value as JsonObject;
}

/**
 * The event a resolved event stands for: the link target, carrying its link, when links are
 * resolved; the link itself when its target is gone (as the other backends deliver it).
 */
export function toRecordedEvent(resolved: ResolvedEvent): RecordedEvent | undefined {
  const link = resolved.link ? toRecordedEvent({ event: resolved.link, ...(resolved.commitPosition !== undefined ? { commitPosition: resolved.commitPosition } : {}) } as ResolvedEvent) : undefined;
  const event = resolved.event;
  if (!event) return link;
  const position = event.position
    ? { commit: event.position.commit, prepare: event.position.prepare }
    : resolved.commitPosition !== undefined
      ? { commit: resolved.commitPosition, prepare: resolved.commitPosition }
      : NO_POSITION;
  return {
    id: event.id,
    type: event.type,
    data: bodyOf(event.data),
    metadata: metadataOf(event.metadata),
    stream: event.streamId,
    revision: event.revision,
    position,
    created: event.created instanceof Date ? event.created : new Date(Number(event.created)),
    ...(link ? { link } : {}),
  };
}

const KNOWN_KEYS = new Set(['maxCount', 'maxAge', 'truncateBefore', 'cacheControl', 'acl']);

export function toClientMetadata(metadata: StreamMetadata): ClientStreamMetadata {
  return {
    ...(metadata.custom ?? {}),
    ...(metadata.maxCount !== undefined ? { maxCount: metadata.maxCount } : {}),
    ...(metadata.maxAge !== undefined ? { maxAge: metadata.maxAge } : {}),
    // The client insists on a number here; revisions past 2^53 cannot be truncated through it.
    ...(metadata.truncateBefore !== undefined ? { truncateBefore: Number(metadata.truncateBefore) } : {}),
  };
}

export function fromClientMetadata(metadata: ClientStreamMetadata): StreamMetadata {
  const custom: JsonObject = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (!KNOWN_KEYS.has(key)) custom[key] = value as Json;
  }
  const number = (value: unknown) => (typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : undefined);
  const maxCount = number(metadata.maxCount);
  const maxAge = number(metadata.maxAge);
  const truncateBefore = number(metadata.truncateBefore);
  return {
    ...(maxCount !== undefined ? { maxCount } : {}),
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(truncateBefore !== undefined ? { truncateBefore: BigInt(truncateBefore) } : {}),
    ...(Object.keys(custom).length > 0 ? { custom } : {}),
  };
}
