/**
 * BatchAppend's messages as bytes, read and written here instead of through google-protobuf: on the
 * served path the server decoded every request into an object graph (google-protobuf and the
 * client's generated classes were about an eighth of its main thread's time at 50 workflows in
 * flight) only to copy the fields out again. Answers that carry an error are rare and keep their
 * google-protobuf Status (the details are packed `Any`s); a success is written as bytes.
 *
 * Field numbers are those of streams.proto (BatchAppendReq, BatchAppendResp) and shared.proto (UUID,
 * StreamIdentifier, AllStreamPosition) as EventStoreDB 21.10+ and the 6.x client use them.
 */
import { ProtobufReader, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from '../shared/protobuf-reader.js';
import { ProtobufWriter } from '../shared/protobuf-writer.js';
import type { AppendResult, ExpectedRevision } from '../store/port.js';
import type { statusPb } from './proto.js';

const REQUEST = { correlationId: 1, options: 2, proposedMessages: 3, isFinal: 4 } as const;
const OPTIONS = { streamIdentifier: 1, streamPosition: 2, noStream: 3, any: 4, streamExists: 5, deadline: 6 } as const;
const PROPOSED = { id: 1, metadata: 2, customMetadata: 3, data: 4 } as const;
const UUID = { structured: 1, string: 2 } as const;
const STRUCTURED = { mostSignificantBits: 1, leastSignificantBits: 2 } as const;
const STREAM_NAME = 3;
const TIMESTAMP = { seconds: 1, nanos: 2 } as const;
const RESPONSE = { correlationId: 1, error: 2, success: 3, streamIdentifier: 4 } as const;
const SUCCESS = { currentRevision: 1, noStream: 2, position: 3 } as const;

const tagOf = (field: number, wireType: number) => field * 8 + wireType;

/** A UUID as sent: a string, or two 64-bit halves (unsigned here; the server's text form is built from them). */
export type WireUuid = { readonly text: string } | { readonly most: bigint; readonly least: bigint };

export interface WireProposedEvent {
  readonly id: WireUuid | undefined;
  /** The metadata map's entries (`type`, `content-type`). */
  readonly metadata: ReadonlyMap<string, string>;
  readonly data: Buffer;
  readonly customMetadata: Buffer;
}

export interface WireBatchOptions {
  /** The stream name's bytes; undefined when the identifier is missing. */
  readonly streamName: Buffer | undefined;
  /** Undefined: no expected revision was given (or a malformed one). */
  readonly expected: ExpectedRevision | undefined;
  /** The client's absolute deadline (`deadline_21_10_0`), in milliseconds since the epoch. */
  readonly deadlineMs: number | undefined;
}

export interface WireBatchAppendRequest {
  /** The key appends are matched by: the UUID's string, or its two halves. */
  readonly correlationKey: string;
  /** The correlation id's message bytes, echoed in every answer as they came. */
  readonly correlationId: Buffer | undefined;
  readonly options: WireBatchOptions | undefined;
  readonly proposed: readonly WireProposedEvent[];
  readonly isFinal: boolean;
}

function readUuid(reader: ProtobufReader, end: number): WireUuid | undefined {
  let uuid: WireUuid | undefined;
  while (reader.position < end) {
    const tag = reader.tag();
    if (tag === tagOf(UUID.string, WIRE_LENGTH_DELIMITED)) uuid = { text: reader.string() };
    else if (tag === tagOf(UUID.structured, WIRE_LENGTH_DELIMITED)) {
      const structuredEnd = reader.lengthDelimitedEnd();
      let most = 0n;
      let least = 0n;
      while (reader.position < structuredEnd) {
        const inner = reader.tag();
        if (inner === tagOf(STRUCTURED.mostSignificantBits, WIRE_VARINT)) most = reader.uint64();
        else if (inner === tagOf(STRUCTURED.leastSignificantBits, WIRE_VARINT)) least = reader.uint64();
        else reader.skip(inner & 7);
      }
      reader.seek(structuredEnd);
      uuid = { most, least };
    } else reader.skip(tag & 7);
  }
  reader.seek(end);
  return uuid;
}

function correlationKeyOf(uuid: WireUuid | undefined): string {
  if (uuid === undefined) return '';
  // Signed, as google-protobuf's string form of the int64 halves had it: keys never mix forms anyway.
  return 'text' in uuid ? uuid.text : `${BigInt.asIntN(64, uuid.most)}/${BigInt.asIntN(64, uuid.least)}`;
}

function readStreamName(reader: ProtobufReader, end: number): Buffer {
  let name: Buffer = Buffer.alloc(0);
  while (reader.position < end) {
    const tag = reader.tag();
    if (tag === tagOf(STREAM_NAME, WIRE_LENGTH_DELIMITED)) name = reader.bytes();
    else reader.skip(tag & 7);
  }
  reader.seek(end);
  return name;
}

function readDeadline(reader: ProtobufReader, end: number): number {
  let seconds = 0;
  let nanos = 0;
  while (reader.position < end) {
    const tag = reader.tag();
    if (tag === tagOf(TIMESTAMP.seconds, WIRE_VARINT)) seconds = Number(BigInt.asIntN(64, reader.uint64()));
    else if (tag === tagOf(TIMESTAMP.nanos, WIRE_VARINT)) nanos = Number(BigInt.asIntN(32, BigInt(reader.varint())));
    else reader.skip(tag & 7);
  }
  reader.seek(end);
  return seconds * 1000 + nanos / 1_000_000;
}

function readOptions(reader: ProtobufReader, end: number): WireBatchOptions {
  let streamName: Buffer | undefined;
  let expected: ExpectedRevision | undefined;
  let deadlineMs: number | undefined;
  while (reader.position < end) {
    const tag = reader.tag();
    if (tag === tagOf(OPTIONS.streamIdentifier, WIRE_LENGTH_DELIMITED)) streamName = readStreamName(reader, reader.lengthDelimitedEnd());
    else if (tag === tagOf(OPTIONS.streamPosition, WIRE_VARINT)) expected = reader.uint64();
    else if (tag === tagOf(OPTIONS.noStream, WIRE_LENGTH_DELIMITED)) { reader.skip(WIRE_LENGTH_DELIMITED); expected = 'no_stream'; }
    else if (tag === tagOf(OPTIONS.any, WIRE_LENGTH_DELIMITED)) { reader.skip(WIRE_LENGTH_DELIMITED); expected = 'any'; }
    else if (tag === tagOf(OPTIONS.streamExists, WIRE_LENGTH_DELIMITED)) { reader.skip(WIRE_LENGTH_DELIMITED); expected = 'stream_exists'; }
    else if (tag === tagOf(OPTIONS.deadline, WIRE_LENGTH_DELIMITED)) deadlineMs = readDeadline(reader, reader.lengthDelimitedEnd());
    else reader.skip(tag & 7);
  }
  reader.seek(end);
  return { streamName, expected, deadlineMs };
}

function readMapEntry(reader: ProtobufReader, end: number, into: Map<string, string>): void {
  let key = '';
  let value = '';
  while (reader.position < end) {
    const tag = reader.tag();
    if (tag === tagOf(1, WIRE_LENGTH_DELIMITED)) key = reader.string();
    else if (tag === tagOf(2, WIRE_LENGTH_DELIMITED)) value = reader.string();
    else reader.skip(tag & 7);
  }
  reader.seek(end);
  into.set(key, value);
}

function readProposed(reader: ProtobufReader, end: number): WireProposedEvent {
  let id: WireUuid | undefined;
  const metadata = new Map<string, string>();
  let data: Buffer = Buffer.alloc(0);
  let customMetadata: Buffer = Buffer.alloc(0);
  while (reader.position < end) {
    const tag = reader.tag();
    if (tag === tagOf(PROPOSED.id, WIRE_LENGTH_DELIMITED)) id = readUuid(reader, reader.lengthDelimitedEnd());
    else if (tag === tagOf(PROPOSED.metadata, WIRE_LENGTH_DELIMITED)) readMapEntry(reader, reader.lengthDelimitedEnd(), metadata);
    else if (tag === tagOf(PROPOSED.customMetadata, WIRE_LENGTH_DELIMITED)) customMetadata = reader.bytes();
    else if (tag === tagOf(PROPOSED.data, WIRE_LENGTH_DELIMITED)) data = reader.bytes();
    else reader.skip(tag & 7);
  }
  reader.seek(end);
  return { id, metadata, data, customMetadata };
}

/** grpc-js's requestDeserialize for BatchAppend: a malformed message throws, and grpc-js fails the call. */
export function decodeBatchAppendRequest(buffer: Buffer): WireBatchAppendRequest {
  const reader = new ProtobufReader(buffer);
  let correlation: WireUuid | undefined;
  let correlationId: Buffer | undefined;
  let options: WireBatchOptions | undefined;
  const proposed: WireProposedEvent[] = [];
  let isFinal = false;
  while (reader.position < buffer.length) {
    const tag = reader.tag();
    if (tag === tagOf(REQUEST.correlationId, WIRE_LENGTH_DELIMITED)) {
      const end = reader.lengthDelimitedEnd();
      const start = reader.position;
      // Copied: it is written back after the append, and the request's buffer is not ours to keep.
      correlationId = Buffer.from(buffer.subarray(start, end));
      correlation = readUuid(reader, end);
    } else if (tag === tagOf(REQUEST.options, WIRE_LENGTH_DELIMITED)) options = readOptions(reader, reader.lengthDelimitedEnd());
    else if (tag === tagOf(REQUEST.proposedMessages, WIRE_LENGTH_DELIMITED)) proposed.push(readProposed(reader, reader.lengthDelimitedEnd()));
    else if (tag === tagOf(REQUEST.isFinal, WIRE_VARINT)) isFinal = reader.varint() !== 0;
    else reader.skip(tag & 7);
  }
  return { correlationKey: correlationKeyOf(correlation), correlationId, options, proposed, isFinal };
}

/** An answer: the correlation id's bytes as the request had them, the stream, and the outcome. */
export interface WireBatchAppendResponse {
  readonly correlationId: Buffer | undefined;
  readonly stream: string;
  readonly outcome: { readonly result: AppendResult } | { readonly error: InstanceType<typeof statusPb.Status> };
}

const writer = new ProtobufWriter(256);

/** grpc-js's responseSerialize for BatchAppend. */
export function encodeBatchAppendResponse(response: WireBatchAppendResponse): Buffer {
  writer.reset();
  // The correlation id's content was kept as it came: written back as the same field.
  if (response.correlationId) writer.bytes(RESPONSE.correlationId, response.correlationId);
  const { outcome } = response;
  if ('error' in outcome) writer.bytes(RESPONSE.error, Buffer.from(outcome.error.serializeBinary()));
  else {
    const success = writer.begin(RESPONSE.success);
    const { nextExpectedRevision, position } = outcome.result;
    if (nextExpectedRevision < 0n) writer.empty(SUCCESS.noStream);
    else writer.uint64(SUCCESS.currentRevision, nextExpectedRevision, true); // a oneof member: written even when 0
    const allPosition = writer.begin(SUCCESS.position);
    writer.uint64(1, position.commit).uint64(2, position.prepare).end(allPosition);
    writer.end(success);
  }
  const identifier = writer.begin(RESPONSE.streamIdentifier);
  writer.bytes(STREAM_NAME, Buffer.from(response.stream, 'utf8')).end(identifier);
  return writer.finish();
}
