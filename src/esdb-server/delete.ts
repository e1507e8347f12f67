/** Streams.Delete (soft delete) and Streams.Tombstone, unary, per Services/Transport/Grpc/Streams.Delete.cs. */
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { DeleteResult } from '../store/port.js';
import { decodeExpectedRevision, type HandlerContext } from './context.js';
import { decodeStreamName } from './convert.js';
import { rpcErrors, toRpcError } from './errors.js';
import { streamsPb, type DeleteReq, type DeleteResp, type TombstoneReq, type TombstoneResp } from './proto.js';
import { refuseAllStream } from './write.js';

async function runDelete(context: HandlerContext, request: DeleteReq | TombstoneReq, hard: boolean): Promise<DeleteResult> {
  const options = request.getOptions();
  if (!options) throw rpcErrors.invalidArgument(' `options` is a required argument');
  const stream = decodeStreamName(options.getStreamIdentifier());
  refuseAllStream(stream);
  const expectedRevision = decodeExpectedRevision(options, () => (options.hasRevision() ? options.getRevision() : undefined));
  if (expectedRevision === undefined) throw rpcErrors.invalidArgument('An expected stream revision is required');
  return hard
    ? context.store.tombstoneStream(stream, { expectedRevision })
    : context.store.deleteStream(stream, { expectedRevision });
}

export function handleDelete(context: HandlerContext) {
  return (call: ServerUnaryCall<DeleteReq, DeleteResp>, callback: sendUnaryData<DeleteResp>): void => {
    if (!context.authorize(call.metadata)) return callback(rpcErrors.accessDenied());
    runDelete(context, call.request, false).then(
      (result) => {
        const position = new streamsPb.DeleteResp.Position();
        position.setCommitPosition(result.position.commit.toString());
        position.setPreparePosition(result.position.prepare.toString());
        const response = new streamsPb.DeleteResp();
        response.setPosition(position);
        callback(null, response);
      },
      (error: unknown) => callback(toRpcError(error, 'Delete')),
    );
  };
}

export function handleTombstone(context: HandlerContext) {
  return (call: ServerUnaryCall<TombstoneReq, TombstoneResp>, callback: sendUnaryData<TombstoneResp>): void => {
    if (!context.authorize(call.metadata)) return callback(rpcErrors.accessDenied());
    runDelete(context, call.request, true).then(
      (result) => {
        const position = new streamsPb.TombstoneResp.Position();
        position.setCommitPosition(result.position.commit.toString());
        position.setPreparePosition(result.position.prepare.toString());
        const response = new streamsPb.TombstoneResp();
        response.setPosition(position);
        callback(null, response);
      },
      (error: unknown) => callback(toRpcError(error, 'Delete')),
    );
  };
}
