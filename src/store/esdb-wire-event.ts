/**
 * Subscription events read from the wire by the adapter, header first. The client decodes every
 * ReadResp into google-protobuf objects and parses each event's JSON before anyone looks at it; the
 * saga runtime then passes over nearly all of them (its own appends, known by stream and revision:
 * the subscription's `skip`). Here a ReadResp event is read only as far as its header (stream,
 * revision, position, type); its data and metadata stay bytes until the event is delivered, and are
 * then turned into the client's event shape and from there into the port's by esdb-convert.ts, as
 * any other event.
 *
 * Field numbers are those of the client's streams.proto / shared.proto: ReadResp.event = 1;
 * ReadEvent event = 1, link = 2, commit_position = 3, no_position = 4; RecordedEvent id = 1,
 * stream_identifier = 2, stream_revision = 3, prepare_position = 4, commit_position = 5, metadata = 6,
 * custom_metadata = 7, data = 8; UUID structured = 1, string = 2; StreamIdentifier.stream_name = 3.
 * Anything else (confirmations, checkpoints, caught-up, link events, structured UUIDs) is decoded by
 * google-protobuf as before.
 */
import type { ResolvedEvent } from '@eventstore/db-client';
import streamsPbModule from '@eventstore/db-client/generated/streams_pb.js';
import type { ReadResp } from '@eventstore/db-client/generated/streams_pb.js';
import { ProtobufReader, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from '../shared/protobuf-reader.js';
import { toRecordedEvent } from './esdb-convert.js';
import type { Position, RecordedEvent } from './port.js';

const TICKS_PER_MILLISECOND = 10_000n;

/** One event of a subscription: its header read, its content still bytes. */
export class WireEvent {
  constructor(
    readonly id: string,
    readonly stream: string,
    readonly revision: bigint,
    readonly position: Position,
    readonly type: string,
    readonly contentType: string | undefined,
    readonly created: string | undefined,
    readonly data: Buffer,
    readonly metadata: Buffer,
  ) {}

  /** What the client's Subscription asks of a ReadResp before it converts the event: this is one. */
  hasEvent(): boolean {
    return true;
  }

  getEvent(): this {
    return this;
  }

  /** The port's event, its content decoded as the client would have decoded it. */
  toRecorded(): RecordedEvent | undefined {
    return toRecordedEvent(this.#resolved());
  }

  /** The client's ResolvedEvent for this event (its convertGrpcRecord, field by field). */
  #resolved(): ResolvedEvent {
    const contentType = this.contentType ?? 'application/octet-stream';
    const isJson = contentType === 'application/json';
    const text = (bytes: Buffer) => bytes.toString('utf8');
    let data: unknown = new Uint8Array(this.data);
    if (isJson) {
      try {
        data = JSON.parse(text(this.data));
      } catch {
        data = text(this.data);
      }
    }
    let metadata: unknown;
    if (this.metadata.length > 0) {
      try {
        metadata = JSON.parse(text(this.metadata));
      } catch {
        metadata = new Uint8Array(this.metadata);
      }
    }
    return {
      event: {
        streamId: this.stream,
        id: this.id,
        revision: this.revision,
        type: this.type,
        data,
        metadata,
        isJson,
        created: createdDate(this.created),
        position: this.position,
      },
    } as ResolvedEvent;
  }
}

function createdDate(ticks: string | undefined): Date {
  if (ticks === undefined) return new Date(0);
  try {
    return new Date(Number(BigInt(ticks) / TICKS_PER_MILLISECOND));
  } catch {
    return new Date(0);
  }
}

/** Thrown inside the decoder when a message is not the plain event shape read here. */
const NOT_PLAIN = Symbol('not a plain event');

function readRecordedEvent(reader: ProtobufReader, end: number): WireEvent {
  let id: string | undefined;
  let stream: string | undefined;
  let revision = 0n;
  let prepare = 0n;
  let commit = 0n;
  let type: string | undefined;
  let contentType: string | undefined;
  let created: string | undefined;
  let data: Buffer = Buffer.alloc(0);
  let metadata: Buffer = Buffer.alloc(0);
  while (reader.position < end) {
    const tag = reader.tag();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === WIRE_LENGTH_DELIMITED) {
      const idEnd = reader.lengthDelimitedEnd();
      while (reader.position < idEnd) {
        const idTag = reader.tag();
        if (idTag !== 2 * 8 + WIRE_LENGTH_DELIMITED) throw NOT_PLAIN; // a structured UUID
        id = reader.string();
      }
    } else if (field === 2 && wire === WIRE_LENGTH_DELIMITED) {
      const identifierEnd = reader.lengthDelimitedEnd();
      while (reader.position < identifierEnd) {
        const identifierTag = reader.tag();
        if (identifierTag === 3 * 8 + WIRE_LENGTH_DELIMITED) stream = reader.string();
        else reader.skip(identifierTag % 8);
      }
    } else if (field === 3 && wire === WIRE_VARINT) revision = reader.uint64();
    else if (field === 4 && wire === WIRE_VARINT) prepare = reader.uint64();
    else if (field === 5 && wire === WIRE_VARINT) commit = reader.uint64();
    else if (field === 6 && wire === WIRE_LENGTH_DELIMITED) {
      const entryEnd = reader.lengthDelimitedEnd();
      let key = '';
      let value = '';
      while (reader.position < entryEnd) {
        const entryTag = reader.tag();
        if (entryTag === 1 * 8 + WIRE_LENGTH_DELIMITED) key = reader.string();
        else if (entryTag === 2 * 8 + WIRE_LENGTH_DELIMITED) value = reader.string();
        else reader.skip(entryTag % 8);
      }
      if (key === 'type') type = value;
      else if (key === 'content-type') contentType = value;
      else if (key === 'created') created = value;
    } else if (field === 7 && wire === WIRE_LENGTH_DELIMITED) metadata = reader.bytes();
    else if (field === 8 && wire === WIRE_LENGTH_DELIMITED) data = reader.bytes();
    else reader.skip(wire);
  }
  if (id === undefined || stream === undefined) throw NOT_PLAIN;
  return new WireEvent(id, stream, revision, { commit, prepare }, type ?? '<no-event-type-provided>', contentType, created, data, metadata);
}

/** A plain ReadResp{event} as a WireEvent, or undefined when it is anything else. */
function readPlainEvent(bytes: Buffer): WireEvent | undefined {
  const reader = new ProtobufReader(bytes);
  if (reader.position >= bytes.length || reader.tag() !== 1 * 8 + WIRE_LENGTH_DELIMITED) return undefined;
  const readEventEnd = reader.lengthDelimitedEnd();
  if (readEventEnd !== bytes.length) return undefined;
  let event: WireEvent | undefined;
  while (reader.position < readEventEnd) {
    const tag = reader.tag();
    const field = Math.floor(tag / 8);
    if (field === 1 && tag % 8 === WIRE_LENGTH_DELIMITED) {
      const end = reader.lengthDelimitedEnd();
      event = readRecordedEvent(reader, end);
      reader.seek(end);
    } else if (field === 3 || field === 4) reader.skip(tag % 8);
    else return undefined; // a link (resolved link events), or a field this reader does not know
  }
  return event;
}

/** The Read call's response deserialiser: plain events as WireEvents, the rest through google-protobuf. */
export function deserializeReadResponse(bytes: Buffer): WireEvent | ReadResp {
  try {
    const event = readPlainEvent(bytes);
    if (event) return event;
  } catch {
    // Not the plain shape (NOT_PLAIN), or bytes this reader cannot make sense of: google-protobuf
    // decodes the former and reports the latter as it always has.
  }
  return streamsPbModule.ReadResp.deserializeBinary(bytes);
}
