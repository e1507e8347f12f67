/**
 * The Projections service, answered with a clear refusal: user-defined (JavaScript) projections are
 * not supported by this server. Every method fails FAILED_PRECONDITION with a message that says so;
 * the client raises it as an error carrying that message (UNIMPLEMENTED would read as a missing
 * server feature or a version mismatch). The standard system projections are served as streams
 * instead (system-projections.ts).
 */
import { status, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import projectionsGrpc from '@eventstore/db-client/generated/projections_grpc_pb.js';
import { RpcError } from './errors.js';
import { fail } from './send.js';

export const ProjectionsService: ServiceDefinition = projectionsGrpc.ProjectionsService;

export const PROJECTIONS_NOT_SUPPORTED =
  'User-defined projections are not supported by this server (cadenza store serve). The system projections '
  + '$by_category ($ce-<category>), $by_event_type ($et-<type>), $streams and $stream_by_category ($category-<category>) '
  + 'are served as streams of link events.';

export function projectionsNotSupported(): RpcError {
  return new RpcError(status.FAILED_PRECONDITION, PROJECTIONS_NOT_SUPPORTED);
}

/** A refusing handler for every method of the service, unary and server-streaming alike. */
export function refusingProjections(): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(ProjectionsService)) {
    handlers[name] = method.responseStream
      ? (call: Parameters<typeof fail>[0]) => fail(call, projectionsNotSupported())
      : (_call: unknown, callback: (error: RpcError) => void) => callback(projectionsNotSupported());
  }
  return handlers;
}
