/**
 * Streams.BatchAppend (bidirectional): many appends multiplexed on one call by correlation id, each
 * an Options message then proposed messages until `is_final`. Failures are per append: a
 * BatchAppendResp carrying a google.rpc.Status whose details pack the EventStoreDB error message
 * (EventStore: Services/Transport/Grpc/Streams.BatchAppend.cs and Status.cs).
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { status as grpcStatus } from '@grpc/grpc-js';
import { AccessDeniedError, MaximumAppendSizeExceededError, StreamDeletedError, WrongExpectedVersionError } from '../store/errors.js';
import type { AppendResult, EventData, ExpectedRevision } from '../store/port.js';
import type { WireBatchAppendRequest, WireBatchAppendResponse, WireProposedEvent, WireUuid } from './batch-append-wire.js';
import { appendTimeoutMs, timeoutStatus } from './batch-deadline.js';
import type { HandlerContext } from './context.js';
import { decodeProposed, encodeStreamName, streamNameFromBytes, uuidFromHalves, uuidFromText, type DecodedEvent } from './convert.js';
import { rpcErrors, RpcError, toRpcError } from './errors.js';
import { fail } from './send.js';
import { AnyPb, GoogleEmpty, sharedPb, statusPb } from './proto.js';
import { AppendSizeTracker, writeEvents } from './write.js';
import { WRITER_HEADER } from '../store/writer-headers.js';
import { headerText } from './writers.js';

interface PendingBatch {
  readonly stream: string;
  readonly expected: ExpectedRevision;
  readonly events: EventData[];
  readonly size: AppendSizeTracker;
  /** Answers Timeout if the final request has not arrived by the append's deadline (batch-deadline.ts). */
  readonly deadline: NodeJS.Timeout;
}

type RpcStatus = InstanceType<typeof statusPb.Status>;

function packedStatus(code: grpcStatus, message: string, typeName: string, details: { serializeBinary(): Uint8Array }): RpcStatus {
  const any = new AnyPb();
  any.pack(details.serializeBinary(), typeName);
  const result = new statusPb.Status();
  result.setCode(Number(code)); // google.rpc.Code and gRPC status share their numbers.
  result.setMessage(message);
  result.setDetails(any);
  return result;
}

function wrongExpectedVersionStatus(error: WrongExpectedVersionError): RpcStatus {
  const details = new sharedPb.WrongExpectedVersion();
  if (error.actual === 'no_stream') details.setCurrentNoStream(new GoogleEmpty());
  else details.setCurrentStreamRevision(error.actual.toString());
  const expected = error.expected;
  if (expected === 'any') details.setExpectedAny(new GoogleEmpty());
  else if (expected === 'no_stream') details.setExpectedNoStream(new GoogleEmpty());
  else if (expected === 'stream_exists') details.setExpectedStreamExists(new GoogleEmpty());
  else details.setExpectedStreamPosition(expected.toString());
  return packedStatus(grpcStatus.ALREADY_EXISTS, 'WrongExpectedVersion', 'event_store.client.WrongExpectedVersion', details);
}

/** A failure as the Status EventStoreDB puts in a BatchAppendResp. */
export function batchErrorStatus(error: unknown, stream: string): RpcStatus {
  if (error instanceof WrongExpectedVersionError) return wrongExpectedVersionStatus(error);
  if (error instanceof StreamDeletedError) {
    const details = new sharedPb.StreamDeleted();
    details.setStreamIdentifier(encodeStreamName(stream));
    return packedStatus(grpcStatus.NOT_FOUND, 'StreamDeleted', 'event_store.client.StreamDeleted', details);
  }
  if (error instanceof AccessDeniedError) {
    return packedStatus(grpcStatus.PERMISSION_DENIED, 'AccessDenied', 'event_store.client.AccessDenied', new sharedPb.AccessDenied());
  }
  const rpc = toRpcError(error);
  const exception = rpc.metadata.get('exception')[0];
  if (error instanceof MaximumAppendSizeExceededError || exception === 'maximum-append-size-exceeded') {
    const details = new sharedPb.MaximumAppendSizeExceeded();
    details.setMaxappendsize(Number(rpc.metadata.get('maximum-append-size')[0] ?? 0));
    return packedStatus(grpcStatus.INVALID_ARGUMENT, 'MaximumAppendSizeExceeded', 'event_store.client.MaximumAppendSizeExceeded', details);
  }
  if (exception === 'stream-deleted') return batchErrorStatus(new StreamDeletedError(stream), stream);
  if (exception === 'access-denied') return batchErrorStatus(new AccessDeniedError(), stream);
  if (rpc.code === grpcStatus.INVALID_ARGUMENT) {
    const details = new sharedPb.BadRequest();
    details.setMessage(rpc.details);
    // EventStoreDB's message is just "BadRequest": the 6.x client cannot unpack BadRequest details
    // and shows only "Could not recognize <message>" (unpackError.js), so the reason goes there too.
    return packedStatus(grpcStatus.INVALID_ARGUMENT, `${BAD_REQUEST}${rpc.details}`, 'event_store.client.BadRequest', details);
  }
  return packedStatus(grpcStatus.UNKNOWN, 'Unknown', 'event_store.client.Unknown', new sharedPb.Unknown());
}

/** The start of a BadRequest status message; the reason follows. */
const BAD_REQUEST = 'BadRequest: ';

function uuidOf(id: WireUuid | undefined): string {
  if (id === undefined) throw rpcErrors.invalidArgument(' `id` is a required argument');
  return 'text' in id ? uuidFromText(id.text) : uuidFromHalves(id.most, id.least);
}

function decodeWireEvent(proposed: WireProposedEvent): DecodedEvent {
  return decodeProposed({
    type: proposed.metadata.get('type'),
    contentType: proposed.metadata.get('content-type'),
    id: () => uuidOf(proposed.id),
    data: proposed.data,
    customMetadata: proposed.customMetadata,
  });
}

export function handleBatchAppend(context: HandlerContext) {
  return (call: ServerDuplexStream<WireBatchAppendRequest, WireBatchAppendResponse>): void => {
    const pending = new Map<string, PendingBatch>();
    let inFlight = 0;
    let inputEnded = false;
    let closed = false;
    const authorized = context.authorize(call.metadata);
    const writer = headerText(call.metadata, WRITER_HEADER);
    // At shutdown the call ends CANCELLED, as EventStoreDB's does (it reads and writes BatchAppend
    // under the call's cancellation; the official client's extra/write-after-end expects
    // CancelledError). The client reconnects on CANCELLED as on UNAVAILABLE; a classic Append ends
    // UNAVAILABLE (append.ts).
    const untrack = context.track(() => {
      closed = true;
      forgetPending();
      fail(call, rpcErrors.cancelled('Server is shutting down'));
    });

    const respond = (request: WireBatchAppendRequest, stream: string | undefined, outcome: { error: RpcStatus } | { result: AppendResult }) => {
      if (closed) return;
      try {
        call.write({ correlationId: request.correlationId, stream: stream ?? '', outcome });
      } catch {
        closed = true; // The client went away between our check and the write: nothing left to tell it.
      }
    };
    const maybeEnd = () => {
      if (inputEnded && inFlight === 0 && !closed) {
        closed = true;
        untrack();
        call.end();
      }
    };

    call.on('data', (request: WireBatchAppendRequest) => {
      const key = request.correlationKey;
      let batch = pending.get(key);
      try {
        const options = request.options;
        if (options) {
          const stream = streamNameFromBytes(options.streamName);
          if (!authorized) {
            respond(request, stream, { error: batchErrorStatus(new AccessDeniedError(), stream) });
            return;
          }
          const expected = options.expected;
          if (expected === undefined) throw new RpcError(grpcStatus.INVALID_ARGUMENT, 'An expected stream position is required');
          if (!batch) {
            const timeout = appendTimeoutMs(options.deadlineMs, context.writeTimeoutMs, Date.now());
            if (timeout <= 0) {
              respond(request, stream, { error: timeoutStatus() });
              return;
            }
            const created: PendingBatch = {
              stream, expected, events: [], size: new AppendSizeTracker(context.maxAppendSize),
              deadline: setTimeout(() => {
                if (pending.get(key) !== created) return;
                pending.delete(key);
                respond(request, stream, { error: timeoutStatus() });
              }, timeout),
            };
            batch = created;
          }
          pending.set(key, batch);
        }
        if (!batch) return; // Like the server: messages for an unknown (failed or finished) correlation id are dropped.
        const current = batch;
        for (const proposed of request.proposed) {
          const { event, size } = decodeWireEvent(proposed);
          current.size.add(size);
          current.events.push(event);
        }
        if (!request.isFinal) return;
        pending.delete(key);
        clearTimeout(current.deadline);
        inFlight += 1;
        writeEvents(context, current.stream, current.events, current.expected, writer)
          .then(
            (result) => respond(request, current.stream, { result }),
            (error: unknown) => respond(request, current.stream, { error: batchErrorStatus(error, current.stream) }),
          )
          .finally(() => {
            inFlight -= 1;
            maybeEnd();
          });
      } catch (error) {
        if (batch) clearTimeout(batch.deadline);
        pending.delete(key);
        const stream = batch?.stream ?? safeStreamName(request);
        respond(request, stream, { error: batchErrorStatus(error, stream ?? '') });
      }
    });
    const forgetPending = () => {
      for (const batch of pending.values()) clearTimeout(batch.deadline);
      pending.clear();
    };
    call.on('end', () => {
      inputEnded = true;
      forgetPending();
      maybeEnd();
    });
    call.on('error', () => {
      closed = true;
      untrack();
      forgetPending();
    });
    call.on('cancelled', () => {
      closed = true;
      untrack();
      forgetPending();
    });
  };
}

function safeStreamName(request: WireBatchAppendRequest): string | undefined {
  try {
    return streamNameFromBytes(request.options?.streamName);
  } catch {
    return undefined;
  }
}
