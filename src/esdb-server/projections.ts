/**
 * The Projections service. User-defined (JavaScript) projections are not supported by this server:
 * their methods fail FAILED_PRECONDITION with a message that says so, which the client raises as an
 * error carrying it (UNIMPLEMENTED would read as a missing server feature or a version mismatch).
 * The standard system projections are served as streams instead (system-projections.ts): while they
 * run, enabling one of them succeeds, as EventStoreDB answers for a running projection (clients,
 * the official client's own tests among them, enable `$by_event_type` before reading `$et-` streams).
 */
import { status, type Metadata, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import projectionsGrpc from '@eventstore/db-client/generated/projections_grpc_pb.js';
import projectionsPb from '@eventstore/db-client/generated/projections_pb.js';
import type { HandlerContext } from './context.js';
import { rpcErrors, RpcError } from './errors.js';
import { fail } from './send.js';

export const ProjectionsService: ServiceDefinition = projectionsGrpc.ProjectionsService;

/** The system projections system-projections.ts writes, by EventStoreDB's names. */
export const SYSTEM_PROJECTION_NAMES: readonly string[] = ['$by_category', '$by_event_type', '$streams', '$stream_by_category'];

export const PROJECTIONS_NOT_SUPPORTED =
  'User-defined projections are not supported by this server (cadenza store serve). The system projections '
  + '$by_category ($ce-<category>), $by_event_type ($et-<type>), $streams and $stream_by_category ($category-<category>) '
  + 'are served as streams of link events.';

const SYSTEM_PROJECTIONS_OFF = 'The system projections are not running: start the server with --system-projections '
  + '(systemProjections: true) to serve them.';

export function projectionsNotSupported(): RpcError {
  return new RpcError(status.FAILED_PRECONDITION, PROJECTIONS_NOT_SUPPORTED);
}

interface EnableCall {
  readonly request: InstanceType<typeof projectionsPb.EnableReq>;
  readonly metadata: Metadata;
}
type UnaryCallback = (error: RpcError | null, response?: unknown) => void;

/**
 * The service: Enable of a running system projection succeeds (a no-op: they always run while the
 * server serves them); everything else is refused, naming what is served instead.
 */
export function projectionsHandlers(context: Pick<HandlerContext, 'authorize'>, systemProjections: boolean): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(ProjectionsService)) {
    handlers[name] = method.responseStream
      ? (call: Parameters<typeof fail>[0]) => fail(call, projectionsNotSupported())
      : (_call: unknown, callback: UnaryCallback) => callback(projectionsNotSupported());
  }
  handlers['enable'] = (call: EnableCall, callback: UnaryCallback) => {
    if (!context.authorize(call.metadata)) return callback(rpcErrors.accessDenied());
    const projection = call.request.getOptions()?.getName() ?? '';
    if (!SYSTEM_PROJECTION_NAMES.includes(projection)) return callback(projectionsNotSupported());
    if (!systemProjections) return callback(new RpcError(status.FAILED_PRECONDITION, SYSTEM_PROJECTIONS_OFF));
    callback(null, new projectionsPb.EnableResp());
  };
  return handlers;
}
