/**
 * Streams.Append (client streaming): one Options message, then the proposed messages. A wrong
 * expected version is a normal response carrying WrongExpectedVersion, not a gRPC error
 * (EventStore: Services/Transport/Grpc/Streams.Append.cs).
 */
import type { ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';
import { WrongExpectedVersionError } from '../store/errors.js';
import type { AppendResult, EventData, ExpectedRevision } from '../store/port.js';
import { decodeExpectedRevision, type HandlerContext } from './context.js';
import { decodeProposedMessage, decodeStreamName } from './convert.js';
import { rpcErrors, toRpcError, type RpcError } from './errors.js';
import { sharedPb, streamsPb, type AppendReq, type AppendResp } from './proto.js';
import { AppendSizeTracker, writeEvents } from './write.js';
import { WRITER_HEADER } from '../store/writer-headers.js';
import { headerText } from './writers.js';

interface PendingAppend {
  readonly stream: string;
  readonly expected: ExpectedRevision;
  readonly events: EventData[];
  readonly size: AppendSizeTracker;
}

function decodeOptions(request: AppendReq, context: HandlerContext): PendingAppend {
  const options = request.getOptions();
  if (!options) throw rpcErrors.invalidArgument('The first message of an append must carry its options');
  const stream = decodeStreamName(options.getStreamIdentifier());
  const expected = decodeExpectedRevision(options, () => (options.hasRevision() ? options.getRevision() : undefined));
  if (expected === undefined) throw rpcErrors.invalidArgument('An expected stream revision is required');
  return { stream, expected, events: [], size: new AppendSizeTracker(context.maxAppendSize) };
}

function successResponse(result: AppendResult): AppendResp {
  const success = new streamsPb.AppendResp.Success();
  if (result.nextExpectedRevision < 0n) success.setNoStream(new sharedPb.Empty());
  else success.setCurrentRevision(result.nextExpectedRevision.toString());
  const position = new streamsPb.AppendResp.Position();
  position.setCommitPosition(result.position.commit.toString());
  position.setPreparePosition(result.position.prepare.toString());
  success.setPosition(position);
  const response = new streamsPb.AppendResp();
  response.setSuccess(success);
  return response;
}

/** The WrongExpectedVersion answer, with both the current and the deprecated 20.6.0 fields set as the server does. */
function wrongExpectedVersionResponse(error: WrongExpectedVersionError): AppendResp {
  const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
  const empty = () => new sharedPb.Empty();
  const expected = error.expected;
  if (expected === 'any') {
    wrong.setExpectedAny(empty());
    wrong.setAny2060(new sharedPb.Empty());
  } else if (expected === 'stream_exists') {
    wrong.setExpectedStreamExists(empty());
    wrong.setStreamExists2060(new sharedPb.Empty());
  } else if (expected === 'no_stream') {
    // The 20.6.0 field is a plain uint64 here (no JS_STRING), which cannot carry ulong.MaxValue exactly: left unset.
    wrong.setExpectedNoStream(empty());
  } else {
    wrong.setExpectedRevision(expected.toString());
    wrong.setExpectedRevision2060(Number(expected));
  }
  if (error.actual === 'no_stream') {
    wrong.setCurrentNoStream(empty());
    wrong.setNoStream2060(new sharedPb.Empty());
  } else {
    wrong.setCurrentRevision(error.actual.toString());
    wrong.setCurrentRevision2060(Number(error.actual));
  }
  const response = new streamsPb.AppendResp();
  response.setWrongExpectedVersion(wrong);
  return response;
}

export function handleAppend(context: HandlerContext) {
  return (call: ServerReadableStream<AppendReq, AppendResp>, callback: sendUnaryData<AppendResp>): void => {
    let pending: PendingAppend | undefined;
    let done = false;
    // An append not answered when the server shuts down ends UNAVAILABLE, as EventStoreDB's does
    // (the client then reconnects), not CANCELLED by the transport.
    const untrack = context.track(() => finish(rpcErrors.unavailable('Server is shutting down')));
    const finish = (error: RpcError | null, response?: AppendResp) => {
      if (done) return;
      done = true;
      untrack();
      if (error) callback(error);
      else callback(null, response);
    };
    if (!context.authorize(call.metadata)) {
      finish(rpcErrors.accessDenied());
      return;
    }
    call.on('data', (request: AppendReq) => {
      if (done) return;
      try {
        if (!pending) {
          pending = decodeOptions(request, context);
          return;
        }
        const proposed = request.getProposedMessage();
        if (!proposed) throw rpcErrors.invalidArgument('Expected a proposed message after the options');
        const { event, size } = decodeProposedMessage(proposed);
        pending.size.add(size);
        pending.events.push(event);
      } catch (error) {
        finish(toRpcError(error));
      }
    });
    call.on('error', () => finish(rpcErrors.unavailable('The append call failed')));
    call.on('end', () => {
      if (done) return;
      if (!pending) {
        finish(rpcErrors.invalidArgument('An append must start with its options'));
        return;
      }
      const { stream, expected, events } = pending;
      writeEvents(context, stream, events, expected, headerText(call.metadata, WRITER_HEADER)).then(
        (result) => finish(null, successResponse(result)),
        (error: unknown) => {
          if (error instanceof WrongExpectedVersionError) finish(null, wrongExpectedVersionResponse(error));
          else finish(toRpcError(error));
        },
      );
    });
  };
}
