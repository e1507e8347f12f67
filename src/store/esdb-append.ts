/**
 * Appends over the client's own BatchAppend call, with each request written as bytes here. The
 * client's appendToStream serialises every event's data again (the port has already made its JSON
 * text), base64-encodes it, builds google-protobuf messages and serialises each one twice (once to
 * measure it): on the EventStoreDB path that was about a third of the engine process's CPU. Here the port's
 * JSON texts go straight into the request (src/shared/protobuf-writer.ts).
 *
 * What is the client's stays the client's: the channel, credentials, the append deadline and
 * whether the server has BatchAppend (esdb-client-internals.ts), and how a refusal is read
 * (`unpackToCommandError`), so an append fails exactly as through appendToStream. Without those
 * members, or on a server without BatchAppend, appends go through appendToStream.
 */
import { randomUUID } from 'node:crypto';
import { makeGenericClientConstructor, type CallOptions, type Metadata, type ClientDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import type { EventStoreDBClient } from '@eventstore/db-client';
import commandErrorModule from '@eventstore/db-client/dist/utils/CommandError.js';
import unpackErrorModule from '@eventstore/db-client/dist/streams/appendToStream/unpackError.js';
import streamsGrpcModule from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPbModule from '@eventstore/db-client/generated/streams_pb.js';
import { ProtobufReader, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from '../shared/protobuf-reader.js';
import { ProtobufWriter } from '../shared/protobuf-writer.js';
import { internalsOf, type ClientInternals } from './esdb-client-internals.js';
import { UnavailableError } from './errors.js';
import { translateClientError } from './esdb-errors.js';
import type { AppendResult, ExpectedRevision } from './port.js';
import { START_POSITION } from './port.js';
import type { SerializedEvent } from './validation.js';
import { WRITER_HEADER } from './writer-headers.js';

const { StreamsService } = streamsGrpcModule;

/** BatchAppend with requests that are already bytes; responses as the client decodes them. */
const rawBatchAppendService: ServiceDefinition = {
  batchAppend: { ...StreamsService.batchAppend, requestSerialize: (bytes: Buffer) => bytes, responseDeserialize: decodeBatchAppendAnswer },
};
const RawStreamsClient = makeGenericClientConstructor(rawBatchAppendService, 'Streams');
type RawStreamsClient = InstanceType<typeof RawStreamsClient>;
type BatchAppendCall = ClientDuplexStream<Buffer, BatchAppendAnswer>;

interface Pending {
  readonly stream: string;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/** Field numbers of streams.proto's BatchAppendReq and shared.proto's UUID / StreamIdentifier / Timestamp. */
const REQUEST = { correlationId: 1, options: 2, proposedMessages: 3, isFinal: 4 } as const;
const OPTIONS = { streamIdentifier: 1, streamPosition: 2, noStream: 3, any: 4, streamExists: 5, deadline: 6 } as const;
const PROPOSED = { id: 1, metadata: 2, customMetadata: 3, data: 4 } as const;
const UUID_STRING = 2;
const STREAM_NAME = 3;

/** One BatchAppendReq carrying a whole append (options, every event, is_final), as bytes. */
export function encodeBatchAppendRequest(writer: ProtobufWriter, correlationId: string, stream: string, events: readonly SerializedEvent[], expected: ExpectedRevision, deadline: Date): Buffer {
  writer.reset();
  const correlation = writer.begin(REQUEST.correlationId);
  writer.string(UUID_STRING, correlationId).end(correlation);
  const options = writer.begin(REQUEST.options);
  const identifier = writer.begin(OPTIONS.streamIdentifier);
  writer.string(STREAM_NAME, stream).end(identifier);
  if (expected === 'any') writer.empty(OPTIONS.any);
  else if (expected === 'no_stream') writer.empty(OPTIONS.noStream);
  else if (expected === 'stream_exists') writer.empty(OPTIONS.streamExists);
  else writer.uint64(OPTIONS.streamPosition, expected, true);
  const timestamp = writer.begin(OPTIONS.deadline);
  const milliseconds = deadline.getTime();
  writer.uint64(1, Math.floor(milliseconds / 1000)).uint64(2, (milliseconds % 1000) * 1_000_000).end(timestamp);
  writer.end(options);
  for (const event of events) {
    const message = writer.begin(REQUEST.proposedMessages);
    const id = writer.begin(PROPOSED.id);
    writer.string(UUID_STRING, event.id).end(id);
    writer.mapEntry(PROPOSED.metadata, 'type', event.type);
    // A binary event's bytes and byte metadata go as they are, as the client's binaryEvent sends them.
    writer.mapEntry(PROPOSED.metadata, 'content-type', typeof event.data === 'string' ? 'application/json' : 'application/octet-stream');
    if (typeof event.metadata === 'string') writer.string(PROPOSED.customMetadata, event.metadata);
    else if (event.metadata !== null) writer.bytes(PROPOSED.customMetadata, event.metadata);
    if (typeof event.data === 'string') writer.string(PROPOSED.data, event.data);
    else writer.bytes(PROPOSED.data, event.data);
    writer.end(message);
  }
  writer.uint64(REQUEST.isFinal, 1);
  return writer.finish();
}

/** Field numbers of streams.proto's BatchAppendResp and its Success, shared.proto's AllStreamPosition. */
const RESPONSE = { correlationId: 1, error: 2, success: 3 } as const;
const SUCCESS = { currentRevision: 1, noStream: 2, position: 3 } as const;

/**
 * A BatchAppendResp as the appender needs it, read as bytes (google-protobuf's object graph per
 * answer was a tenth of the engine's time on this path). An answer carrying an error keeps its bytes,
 * decoded whole by the client's classes when it is settled, so a refusal reads as the client reads it.
 */
export interface BatchAppendAnswer {
  /** The correlation id's string form (the only form this appender sends). */
  readonly correlationId: string | undefined;
  readonly result: AppendResult | undefined;
  /** The whole answer, when it carries an error. */
  readonly refusal: Buffer | undefined;
}

export function decodeBatchAppendAnswer(buffer: Buffer): BatchAppendAnswer {
  const reader = new ProtobufReader(buffer);
  let correlationId: string | undefined;
  let result: AppendResult | undefined;
  let refused = false;
  while (reader.position < buffer.length) {
    const tag = reader.tag();
    if (tag === RESPONSE.correlationId * 8 + WIRE_LENGTH_DELIMITED) {
      const end = reader.lengthDelimitedEnd();
      while (reader.position < end) {
        const inner = reader.tag();
        if (inner === UUID_STRING * 8 + WIRE_LENGTH_DELIMITED) correlationId = reader.string();
        else reader.skip(inner & 7);
      }
      reader.seek(end);
    } else if (tag === RESPONSE.error * 8 + WIRE_LENGTH_DELIMITED) {
      refused = true;
      reader.skip(WIRE_LENGTH_DELIMITED);
    } else if (tag === RESPONSE.success * 8 + WIRE_LENGTH_DELIMITED) result = readSuccess(reader, reader.lengthDelimitedEnd());
    else reader.skip(tag & 7);
  }
  return { correlationId, result: refused ? undefined : result ?? { nextExpectedRevision: -1n, position: START_POSITION }, refusal: refused ? buffer : undefined };
}

function readSuccess(reader: ProtobufReader, end: number): AppendResult {
  let nextExpectedRevision = -1n;
  let position = START_POSITION;
  while (reader.position < end) {
    const tag = reader.tag();
    if (tag === SUCCESS.currentRevision * 8 + WIRE_VARINT) nextExpectedRevision = reader.uint64();
    else if (tag === SUCCESS.position * 8 + WIRE_LENGTH_DELIMITED) {
      const positionEnd = reader.lengthDelimitedEnd();
      let commit = 0n;
      let prepare = 0n;
      while (reader.position < positionEnd) {
        const inner = reader.tag();
        if (inner === 1 * 8 + WIRE_VARINT) commit = reader.uint64();
        else if (inner === 2 * 8 + WIRE_VARINT) prepare = reader.uint64();
        else reader.skip(inner & 7);
      }
      reader.seek(positionEnd);
      position = { commit, prepare };
    } else reader.skip(tag & 7);
  }
  reader.seek(end);
  return { nextExpectedRevision, position };
}

/** An answer to one of a call's appends (matched by correlation id, as the client does). */
function settle(pending: Map<string, Pending>, answer: BatchAppendAnswer): void {
  const key = answer.correlationId;
  const append = key === undefined ? undefined : pending.get(key);
  if (!append || key === undefined) return;
  pending.delete(key);
  if (answer.refusal) {
    const error = streamsPbModule.BatchAppendResp.deserializeBinary(answer.refusal).getError();
    if (error) {
      append.reject(unpackErrorModule.unpackToCommandError(error, append.stream));
      return;
    }
  }
  append.resolve(answer.result ?? { nextExpectedRevision: -1n, position: START_POSITION });
}

type CallCache = WeakMap<RawStreamsClient, BatchAppendCall | Promise<BatchAppendCall>>;

export class DirectAppender {
  readonly #internals: ClientInternals | undefined;
  /**
   * The client's cache of open BatchAppend calls (one per channel), as its own appends keep theirs:
   * one cache per writer ('' for appends without one), since the writer header (writer-headers.ts)
   * belongs to the call. Writers are the runtimes of this process: few.
   */
  readonly #calls = new Map<string, CallCache>();
  /** Appends awaiting their answer, per call (a call that breaks fails only its own). */
  readonly #pending = new WeakMap<BatchAppendCall, Map<string, Pending>>();
  readonly #writer = new ProtobufWriter(4096);

  constructor(client: EventStoreDBClient) {
    this.#internals = internalsOf(client);
  }

  /** Whether appends can go this way (else the caller uses appendToStream). */
  async available(): Promise<boolean> {
    return this.#internals !== undefined && (await this.#internals.supports(StreamsService.batchAppend));
  }

  async append(stream: string, events: readonly SerializedEvent[], expectedRevision: ExpectedRevision, writer?: string): Promise<AppendResult> {
    const internals = this.#internals as ClientInternals;
    const key = writer ?? '';
    let calls = this.#calls.get(key);
    if (!calls) {
      calls = new WeakMap();
      this.#calls.set(key, calls);
    }
    const call = await internals.GRPCStreamCreator(RawStreamsClient, 'appendToStream', (client) => this.#open(client, internals, writer), calls)();
    const correlationId = randomUUID();
    const request = encodeBatchAppendRequest(this.#writer, correlationId, stream, events, expectedRevision, internals.createDeadline());
    const pending = this.#pending.get(call);
    if (!pending) throw new UnavailableError('The append call has ended');
    return new Promise<AppendResult>((resolve, reject) => {
      pending.set(correlationId, { stream, resolve, reject });
      call.write(request);
    });
  }

  #open(client: RawStreamsClient, internals: ClientInternals, writer: string | undefined): BatchAppendCall {
    const [metadata, options] = internals.callArguments({}, { deadline: Infinity });
    if (writer !== undefined) metadata.set(WRITER_HEADER, writer);
    const call = (client as unknown as { batchAppend(metadata: Metadata, options: CallOptions): BatchAppendCall }).batchAppend(metadata, options);
    const pending = new Map<string, Pending>();
    this.#pending.set(call, pending);
    call.on('data', (answer: BatchAppendAnswer) => settle(pending, answer));
    // A call that fails or ends takes the appends it carried with it: they may or may not have been
    // written, which is what UnavailableError says (the runtime appends them again, idempotently).
    const failAll = (error: unknown) => {
      const translated = error ? translateClientError(commandErrorModule.convertToCommandError(error as Error)) : new UnavailableError('EventStoreDB ended the append call');
      const failure = translated instanceof UnavailableError ? translated : new UnavailableError(`The append call failed: ${translated.message}`, { cause: translated });
      for (const append of pending.values()) append.reject(failure);
      pending.clear();
      this.#pending.delete(call);
    };
    call.on('error', failAll);
    call.on('end', () => failAll(undefined));
    return call;
  }
}
