/**
 * The one place where @eventstore/db-client's errors become the port's errors
 * (src/store/errors.ts), so the engine never sees a client error type.
 */
import {
  AccessDeniedError as ClientAccessDenied,
  CancelledError as ClientCancelled,
  DeadlineExceededError as ClientDeadlineExceeded,
  InvalidArgumentError as ClientInvalidArgument,
  MaxAppendSizeExceededError as ClientMaxAppendSize,
  NotLeaderError as ClientNotLeader,
  StreamDeletedError as ClientStreamDeleted,
  StreamNotFoundError as ClientStreamNotFound,
  UnavailableError as ClientUnavailable,
  WrongExpectedVersionError as ClientWrongExpectedVersion,
} from '@eventstore/db-client';
import { status } from '@grpc/grpc-js';
import {
  AccessDeniedError, InvalidArgumentError, MaximumAppendSizeExceededError, StoreError, StreamDeletedError,
  StreamNotFoundError, UnavailableError, WrongExpectedVersionError,
} from './errors.js';
import type { ExpectedRevision } from './port.js';

type ClientExpected = 'any' | 'no_stream' | 'stream_exists' | bigint;

/** The delete path reports EventStoreDB's numeric encodings (-2 any, -1 no stream, -4 stream exists). */
function expectedOf(value: ClientExpected, fallback: ExpectedRevision | undefined): ExpectedRevision {
  if (typeof value !== 'bigint') return value;
  if (value === -2n) return 'any';
  if (value === -1n) return 'no_stream';
  if (value === -4n) return 'stream_exists';
  if (value < 0n) return fallback ?? 'any';
  return value;
}

function actualOf(value: bigint | 'no_stream'): bigint | 'no_stream' {
  return typeof value === 'bigint' && value < 0n ? 'no_stream' : value;
}

function grpcCode(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface ErrorContext {
  readonly stream?: string;
  readonly expected?: ExpectedRevision;
}

/** Translate anything the client throws into a port error; port errors pass through unchanged. */
export function translateClientError(error: unknown, context: ErrorContext = {}): Error {
  if (error instanceof StoreError) return error;
  if (error instanceof ClientWrongExpectedVersion) {
    return new WrongExpectedVersionError(
      error.streamName || context.stream || '',
      expectedOf(error.expectedVersion, context.expected),
      actualOf(error.actualVersion),
    );
  }
  if (error instanceof ClientStreamDeleted) return new StreamDeletedError(error.streamName || context.stream || '');
  if (error instanceof ClientStreamNotFound) return new StreamNotFoundError(error.streamName || context.stream || '');
  if (error instanceof ClientAccessDenied) return new AccessDeniedError(messageOf(error) || undefined);
  if (error instanceof ClientMaxAppendSize) return new MaximumAppendSizeExceededError(error.maxAppendSize);
  if (error instanceof ClientInvalidArgument) return new InvalidArgumentError(messageOf(error));
  if (error instanceof ClientUnavailable || error instanceof ClientNotLeader || error instanceof ClientDeadlineExceeded) {
    return new UnavailableError(`EventStoreDB is unavailable: ${messageOf(error)}`, { cause: error });
  }
  if (error instanceof ClientCancelled) return new UnavailableError(`EventStoreDB cancelled the call: ${messageOf(error)}`, { cause: error });
  // BatchAppend's BadRequest status reaches us only as this message (client: appendToStream/unpackError.js).
  // The embedded server puts the reason after the prefix; EventStoreDB sends "BadRequest" alone.
  if (error instanceof Error && /^Could not recognize BadRequest/.test(error.message)) {
    return new InvalidArgumentError(error.message.replace(/^Could not recognize BadRequest(: )?/, '') || error.message);
  }
  const code = grpcCode(error);
  if (code === status.INVALID_ARGUMENT) return new InvalidArgumentError(messageOf(error).replace(/^3 INVALID_ARGUMENT: /, ''));
  if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED) {
    return new UnavailableError(`EventStoreDB is unavailable: ${messageOf(error)}`, { cause: error });
  }
  if (code === status.PERMISSION_DENIED || code === status.UNAUTHENTICATED) return new AccessDeniedError(messageOf(error));
  return error instanceof Error ? error : new Error(String(error));
}
