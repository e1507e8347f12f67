/**
 * gRPC errors as EventStoreDB raises them: a status code, a message, and trailing metadata whose
 * `exception` key the official clients switch on (EventStore: Services/Transport/Grpc/RpcExceptions.cs
 * and Constants.cs). Every handler funnels failures through {@link toRpcError}, so nothing escapes as a
 * crash and every store error reaches the client in the shape the real server would give it.
 */
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import {
  AccessDeniedError, InvalidArgumentError, MaximumAppendSizeExceededError, StoreClosedError, StoreError,
  StreamDeletedError, StreamNotFoundError, UnavailableError, WrongExpectedVersionError,
} from '../store/errors.js';
import type { ExpectedRevision } from '../store/port.js';

export class RpcError extends Error implements StatusObject {
  readonly details: string;
  constructor(readonly code: status, details: string, readonly metadata: Metadata = new Metadata()) {
    super(details);
    this.details = details;
  }
}

function trailers(entries: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}

/** EventStoreDB's 64-bit encoding of an expected version (ExpectedVersion.Any = -2, NoStream = -1, StreamExists = -4). */
export function expectedVersionNumber(expected: ExpectedRevision): bigint {
  if (expected === 'any') return -2n;
  if (expected === 'no_stream') return -1n;
  if (expected === 'stream_exists') return -4n;
  return expected;
}

export const rpcErrors = {
  accessDenied: () => new RpcError(status.PERMISSION_DENIED, 'Access Denied', trailers({ exception: 'access-denied' })),
  streamDeleted: (stream: string) =>
    new RpcError(status.FAILED_PRECONDITION, `Event stream '${stream}' is deleted.`, trailers({ exception: 'stream-deleted', 'stream-name': stream })),
  streamNotFound: (stream: string) =>
    new RpcError(status.NOT_FOUND, `Event stream '${stream}' is not found.`, trailers({ exception: 'stream-not-found', 'stream-name': stream })),
  wrongExpectedVersion: (operation: string, stream: string, expected: ExpectedRevision, actual: bigint | 'no_stream') => {
    const expectedNumber = expectedVersionNumber(expected);
    const actualNumber = actual === 'no_stream' ? -1n : actual;
    return new RpcError(
      status.FAILED_PRECONDITION,
      `${operation} failed due to WrongExpectedVersion. Stream: ${stream}, Expected version: ${expectedNumber}, Actual version: ${actualNumber}`,
      trailers({
        exception: 'wrong-expected-version', 'stream-name': stream,
        'expected-version': expectedNumber.toString(), 'actual-version': actualNumber.toString(),
      }),
    );
  },
  maximumAppendSizeExceeded: (maxAppendSize: number) =>
    new RpcError(status.INVALID_ARGUMENT, `Maximum Append Size of ${maxAppendSize} Exceeded.`,
      trailers({ exception: 'maximum-append-size-exceeded', 'maximum-append-size': String(maxAppendSize) })),
  requiredMetadataPropertyMissing: (property: string) =>
    new RpcError(status.INVALID_ARGUMENT, `Required Metadata Property '${property}' is missing`,
      trailers({ exception: 'missing-required-metadata-property', 'required-metadata-properties': 'type,content-type' })),
  invalidArgument: (message: string) => new RpcError(status.INVALID_ARGUMENT, message),
  unavailable: (message: string) => new RpcError(status.UNAVAILABLE, message),
  cancelled: (message: string) => new RpcError(status.CANCELLED, message),
  unimplemented: (message: string) => new RpcError(status.UNIMPLEMENTED, message),
};

/** Any failure (store error, decoding error, bug) as the gRPC error the real server would send. */
export function toRpcError(error: unknown, operation = 'Append'): RpcError {
  if (error instanceof RpcError) return error;
  if (error instanceof WrongExpectedVersionError) return rpcErrors.wrongExpectedVersion(operation, error.stream, error.expected, error.actual);
  if (error instanceof StreamDeletedError) return rpcErrors.streamDeleted(error.stream);
  if (error instanceof StreamNotFoundError) return rpcErrors.streamNotFound(error.stream);
  if (error instanceof AccessDeniedError) return rpcErrors.accessDenied();
  if (error instanceof MaximumAppendSizeExceededError) return rpcErrors.maximumAppendSizeExceeded(error.maxAppendSize);
  if (error instanceof InvalidArgumentError) return rpcErrors.invalidArgument(error.message);
  if (error instanceof UnavailableError || error instanceof StoreClosedError) return rpcErrors.unavailable(error.message);
  if (error instanceof StoreError) return new RpcError(status.UNKNOWN, error.message);
  const message = error instanceof Error ? error.message : String(error);
  return new RpcError(status.UNKNOWN, `Exception was thrown by handler: ${message}`);
}
