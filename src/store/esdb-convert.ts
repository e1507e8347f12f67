/** Conversions between @eventstore/db-client's event and metadata shapes and the port's. */
import type { ResolvedEvent, StreamMetadata as ClientStreamMetadata } from '@eventstore/db-client';
import type { Json, JsonObject, Position, RecordedEvent, StreamMetadata } from './port.js';

const NO_POSITION: Position = Object.freeze({ commit: -1n, prepare: -1n });

function jsonOf(value: unknown): Json {
  // Binary (non-JSON) events written by other clients: kept as base64 text rather than dropped.
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return (value ?? null) as Json;
}

function objectOf(value: unknown): JsonObject {
  if (value === undefined || value === null || value instanceof Uint8Array) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return { value: value as Json };
  return value as JsonObject;
}

/** The event a resolved event stands for (the link target when links are resolved), or undefined for a broken link. */
export function toRecordedEvent(resolved: ResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event) return undefined;
  const position = event.position
    ? { commit: event.position.commit, prepare: event.position.prepare }
    : resolved.commitPosition !== undefined
      ? { commit: resolved.commitPosition, prepare: resolved.commitPosition }
      : NO_POSITION;
  return {
    id: event.id,
    type: event.type,
    data: jsonOf(event.data),
    metadata: objectOf(event.metadata),
    stream: event.streamId,
    revision: event.revision,
    position,
    created: event.created instanceof Date ? event.created : new Date(Number(event.created)),
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
