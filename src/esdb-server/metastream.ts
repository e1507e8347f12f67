/**
 * Stream metadata travels as the last `$metadata` event of the stream `$$<stream>`, its JSON keys
 * `$maxCount`, `$maxAge`, `$tb` plus custom keys (EventStoreDB's SystemMetadata; the client's
 * streams/utils/streamMetadata.js). The port keeps metadata as a value, so the server translates both
 * ways here.
 */
import type { Json, JsonObject, RecordedEvent, StreamMetadata } from '../store/port.js';
import { START_POSITION } from '../store/port.js';
import { rpcErrors } from './errors.js';

export const METADATA_EVENT_TYPE = '$metadata';

/** The stream a metadata stream describes, or undefined for an ordinary stream. */
export function describedStream(stream: string): string | undefined {
  return stream.startsWith('$$') && stream.length > 2 ? stream.slice(2) : undefined;
}

function integer(value: Json | undefined, key: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw rpcErrors.invalidArgument(`Invalid stream metadata: "${key}" must be a non-negative integer`);
  }
  return value;
}

export function metadataFromJson(data: Json | Uint8Array): StreamMetadata {
  if (data === null || data instanceof Uint8Array || typeof data !== 'object' || Array.isArray(data)) {
    throw rpcErrors.invalidArgument('Stream metadata must be a JSON object');
  }
  const custom: JsonObject = {};
  for (const [key, value] of Object.entries(data)) {
    if (key !== '$maxCount' && key !== '$maxAge' && key !== '$tb') custom[key] = value;
  }
  const maxCount = integer(data['$maxCount'], '$maxCount');
  const maxAge = integer(data['$maxAge'], '$maxAge');
  const truncateBefore = integer(data['$tb'], '$tb');
  return {
    ...(maxCount !== undefined ? { maxCount } : {}),
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(truncateBefore !== undefined ? { truncateBefore: BigInt(truncateBefore) } : {}),
    ...(Object.keys(custom).length > 0 ? { custom } : {}),
  };
}

export function metadataToJson(metadata: StreamMetadata): JsonObject {
  return {
    ...(metadata.custom ?? {}),
    ...(metadata.maxCount !== undefined ? { $maxCount: metadata.maxCount } : {}),
    ...(metadata.maxAge !== undefined ? { $maxAge: metadata.maxAge } : {}),
    ...(metadata.truncateBefore !== undefined ? { $tb: Number(metadata.truncateBefore) } : {}),
  };
}

/**
 * The current metadata as the one event a reader of `$$<stream>` sees. The port does not expose the
 * metadata stream's own revision or position, so the synthesized event carries revision 0 and the
 * start position; clients read it backwards with count 1 (getStreamMetadata) and use only its data.
 */
export function synthesizeMetadataEvent(stream: string, metadata: StreamMetadata): RecordedEvent {
  return {
    id: '00000000-0000-0000-0000-000000000000',
    type: METADATA_EVENT_TYPE,
    data: metadataToJson(metadata),
    metadata: {},
    stream: `$$${stream}`,
    revision: 0n,
    position: START_POSITION,
    created: new Date(0),
  };
}
