/**
 * Conversions between the wire messages and the port's types: stream names, UUIDs, proposed events,
 * recorded events, revisions and positions (64-bit values travel as decimal strings: the client's
 * protos use jstype = JS_STRING).
 */
import type { EventData, EventMetadata, Json, Position, RecordedEvent } from '../store/port.js';
import { rpcErrors } from './errors.js';
import { sharedPb, streamsPb, type StreamIdentifier, type UUID } from './proto.js';

const UINT64_MAX = 0xffffffffffffffffn;
/** .NET ticks (100 ns) per millisecond: EventStoreDB's `created` is in ticks since the Unix epoch. */
const TICKS_PER_MILLISECOND = 10_000n;

export function bytesOf(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
}

export function decodeStreamName(identifier: StreamIdentifier | undefined): string {
  return streamNameFromBytes(identifier === undefined ? undefined : bytesOf(identifier.getStreamName()));
}

/** A stream name from its identifier's bytes (undefined: no identifier was sent). */
export function streamNameFromBytes(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) throw rpcErrors.invalidArgument(' `streamIdentifier` is a required argument');
  const name = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  if (name.length === 0) throw rpcErrors.invalidArgument("'' is not a valid stream name");
  return name;
}

export function encodeStreamName(stream: string): StreamIdentifier {
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(stream, 'utf8'));
  return identifier;
}

export function parseUint64(text: string, what: string): bigint {
  if (!/^\d+$/.test(text)) throw rpcErrors.invalidArgument(`'${text}' is not a valid ${what}`);
  const value = BigInt(text);
  if (value > UINT64_MAX) throw rpcErrors.invalidArgument(`'${text}' is not a valid ${what}`);
  return value;
}

export function decodePosition(commit: string, prepare: string): Position {
  return { commit: parseUint64(commit, 'commit position'), prepare: parseUint64(prepare, 'prepare position') };
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeUuid(uuid: UUID | undefined): string {
  if (!uuid) throw rpcErrors.invalidArgument(' `id` is a required argument');
  if (uuid.hasStructured()) {
    const structured = uuid.getStructured();
    return uuidFromHalves(BigInt(structured?.getMostSignificantBits() ?? '0'), BigInt(structured?.getLeastSignificantBits() ?? '0'));
  }
  return uuidFromText(uuid.getString());
}

/** A structured UUID's text form (the halves as sent, signed or not). */
export function uuidFromHalves(most: bigint, least: bigint): string {
  const hex = BigInt.asUintN(64, most).toString(16).padStart(16, '0') + BigInt.asUintN(64, least).toString(16).padStart(16, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function uuidFromText(text: string): string {
  if (!UUID_PATTERN.test(text)) throw rpcErrors.invalidArgument(`'${text}' is not a valid event id`);
  return text.toLowerCase();
}

export function encodeUuid(id: string, structured: boolean): UUID {
  const uuid = new sharedPb.UUID();
  if (!structured) {
    uuid.setString(id);
    return uuid;
  }
  const hex = id.replace(/-/g, '');
  const value = new sharedPb.UUID.Structured();
  value.setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString());
  value.setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`)).toString());
  uuid.setStructured(value);
  return uuid;
}

/** What both Append and BatchAppend propose: an id, a metadata map, data and custom metadata. */
export interface ProposedMessageLike {
  getId(): UUID | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData(): Uint8Array | string;
  getCustomMetadata(): Uint8Array | string;
}

export interface DecodedEvent {
  readonly event: EventData;
  /** EventStoreDB's Event.SizeOnDisk counts type, data and metadata: the unit of the append size limit. */
  readonly size: number;
}

function parseJson(bytes: Uint8Array, what: string): Json {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as Json;
  } catch {
    throw rpcErrors.invalidArgument(`${what} is not valid JSON`);
  }
}

export function decodeProposedMessage(message: ProposedMessageLike): DecodedEvent {
  const metadataMap = message.getMetadataMap();
  return decodeProposed({
    type: metadataMap.get('type'),
    contentType: metadataMap.get('content-type'),
    id: () => decodeUuid(message.getId()),
    data: bytesOf(message.getData()),
    customMetadata: bytesOf(message.getCustomMetadata()),
  });
}

/** A proposed event's fields, however they were read (google-protobuf or bytes). */
export interface ProposedFields {
  readonly type: string | undefined;
  readonly contentType: string | undefined;
  /** Decoded after the metadata is checked, so a missing type is reported before a bad id, as EventStoreDB does. */
  readonly id: () => string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
}

export function decodeProposed(fields: ProposedFields): DecodedEvent {
  const { type, contentType, data: dataBytes, customMetadata: metadataBytes } = fields;
  if (type === undefined) throw rpcErrors.requiredMetadataPropertyMissing('type');
  if (contentType === undefined) throw rpcErrors.requiredMetadataPropertyMissing('content-type');
  const id = fields.id();
  const size = Buffer.byteLength(type, 'utf8') + dataBytes.length + metadataBytes.length;
  // EventStoreDB keeps one flag, "is JSON": every other content type is stored as bytes and read
  // back as application/octet-stream (Streams.Append.cs), so binary events keep their bytes here too.
  const data = contentType !== JSON_CONTENT_TYPE ? Uint8Array.from(dataBytes) : dataBytes.length === 0 ? null : parseJson(dataBytes, `Data of event ${id}`);
  const metadata = metadataBytes.length === 0 ? undefined : decodeCustomMetadata(metadataBytes);
  return { event: { id, type, data, ...(metadata ? { metadata } : {}) }, size };
}

const JSON_CONTENT_TYPE = 'application/json';
const BINARY_CONTENT_TYPE = 'application/octet-stream';

/**
 * Custom metadata is bytes on the wire. Bytes that are exactly the JSON text of an object (what the
 * client sends for an object) become that object, so the port's readers can look keys up; any other
 * bytes are kept as they are. Either way the same bytes go back out.
 */
function decodeCustomMetadata(bytes: Uint8Array): EventMetadata {
  const text = Buffer.from(bytes).toString('utf8');
  try {
    const parsed = JSON.parse(text) as Json;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && JSON.stringify(parsed) === text) return parsed;
  } catch {
    // Not JSON: bytes.
  }
  return Uint8Array.from(bytes);
}

/** The content type EventStoreDB reports for an event: JSON, or octet-stream for every binary event. */
export function contentTypeOf(event: RecordedEvent): string {
  return event.data instanceof Uint8Array ? BINARY_CONTENT_TYPE : JSON_CONTENT_TYPE;
}

/** An event's data as wire bytes. */
export function dataBytesOf(event: RecordedEvent): Buffer {
  return event.data instanceof Uint8Array ? Buffer.from(event.data.buffer, event.data.byteOffset, event.data.length) : Buffer.from(JSON.stringify(event.data), 'utf8');
}

/** An event's custom metadata as wire bytes (empty for none). */
export function metadataBytesOf(event: RecordedEvent): Buffer {
  const metadata = event.metadata;
  if (metadata instanceof Uint8Array) return Buffer.from(metadata.buffer, metadata.byteOffset, metadata.length);
  return Object.keys(metadata).length > 0 ? Buffer.from(JSON.stringify(metadata), 'utf8') : Buffer.alloc(0);
}

export function encodeRecordedEvent(event: RecordedEvent, structuredIds: boolean): InstanceType<typeof streamsPb.ReadResp.ReadEvent.RecordedEvent> {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(encodeUuid(event.id, structuredIds));
  recorded.setStreamIdentifier(encodeStreamName(event.stream));
  recorded.setStreamRevision(event.revision.toString());
  recorded.setCommitPosition(event.position.commit.toString());
  recorded.setPreparePosition(event.position.prepare.toString());
  const map = recorded.getMetadataMap();
  map.set('type', event.type);
  map.set('content-type', contentTypeOf(event));
  map.set('created', (BigInt(event.created.getTime()) * TICKS_PER_MILLISECOND).toString());
  recorded.setData(dataBytesOf(event));
  recorded.setCustomMetadata(metadataBytesOf(event));
  return recorded;
}

export function encodeReadEvent(event: RecordedEvent, structuredIds: boolean): InstanceType<typeof streamsPb.ReadResp> {
  const readEvent = new streamsPb.ReadResp.ReadEvent();
  readEvent.setEvent(encodeRecordedEvent(event, structuredIds));
  // A resolved link: the target as `event`, the link as `link`, at the link's place in the log.
  if (event.link) readEvent.setLink(encodeRecordedEvent(event.link, structuredIds));
  readEvent.setCommitPosition((event.link ?? event).position.commit.toString());
  const response = new streamsPb.ReadResp();
  response.setEvent(readEvent);
  return response;
}
