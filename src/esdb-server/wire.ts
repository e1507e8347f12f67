/**
 * A direct protobuf encoder for the one hot message, ReadResp{event}: every event of every read and
 * catch-up goes through it. google-protobuf builds an object graph per message and then walks it;
 * writing the bytes straight away (src/shared/protobuf-writer.ts) is several times cheaper. Field
 * numbers are those of the client's streams.proto / shared.proto (ReadResp.event = 1; ReadEvent.event = 1, commit_position = 3;
 * RecordedEvent id = 1, stream_identifier = 2, stream_revision = 3, prepare_position = 4,
 * commit_position = 5, metadata = 6, custom_metadata = 7, data = 8; UUID.string = 2;
 * StreamIdentifier.stream_name = 3). Structured UUIDs still go through google-protobuf.
 */
import type { RecordedEvent } from '../store/port.js';
import { ProtobufWriter } from '../shared/protobuf-writer.js';
import { contentTypeOf } from './convert.js';

const TICKS_PER_MILLISECOND = 10_000n;
/** One writer for every event (the server encodes one at a time): its buffer grows to the largest event once. */
const writer = new ProtobufWriter(4096);

/** The serialized ReadResp carrying one event, as google-protobuf would write it. */
export function encodeReadEventBytes(event: RecordedEvent): Buffer {
  writer.reset();
  const readEvent = writer.begin(1);
  const recorded = writer.begin(1);
  const id = writer.begin(1);
  writer.string(2, event.id).end(id);
  const streamIdentifier = writer.begin(2);
  writer.string(3, event.stream).end(streamIdentifier);
  writer.uint64(3, event.revision).uint64(4, event.position.prepare).uint64(5, event.position.commit);
  writer.mapEntry(6, 'type', event.type);
  writer.mapEntry(6, 'content-type', contentTypeOf(event));
  writer.mapEntry(6, 'created', (BigInt(event.created.getTime()) * TICKS_PER_MILLISECOND).toString());
  // Binary data and metadata go out byte for byte; JSON is written from its text.
  if (event.metadata instanceof Uint8Array) writer.bytes(7, event.metadata);
  else if (Object.keys(event.metadata).length > 0) writer.string(7, JSON.stringify(event.metadata));
  if (event.data instanceof Uint8Array) writer.bytes(8, event.data);
  else writer.string(8, JSON.stringify(event.data));
  writer.end(recorded);
  // commit_position is a oneof member: written even when zero, so the client sees it set.
  writer.uint64(3, event.position.commit, true);
  writer.end(readEvent);
  return writer.finish();
}
