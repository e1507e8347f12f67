/**
 * Errors of the event store port. Every backend throws these (the esdb adapter translates the
 * client's errors to them in one place), so the engine handles one vocabulary.
 */
import type { ExpectedRevision } from './port.js';

export type StoreErrorCode =
  | 'wrong-expected-version'
  | 'stream-deleted'
  | 'stream-not-found'
  | 'invalid-argument'
  | 'access-denied'
  | 'maximum-append-size-exceeded'
  | 'unavailable'
  | 'closed'
  | 'persistent-subscription-not-found'
  | 'persistent-subscription-exists'
  | 'persistent-subscription-failed'
  | 'persistent-subscription-dropped'
  | 'maximum-subscribers-reached';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export function describeExpected(expected: ExpectedRevision): string {
  return typeof expected === 'bigint' ? expected.toString() : expected;
}

/** The stream was not at the revision the append (or delete) expected. */
export class WrongExpectedVersionError extends StoreError {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** Revision of the stream's last event, or `'no_stream'` if it has none. */
    readonly actual: bigint | 'no_stream',
  ) {
    super(
      'wrong-expected-version',
      `Wrong expected version on stream "${stream}": expected ${describeExpected(expected)}, actual ${typeof actual === 'bigint' ? actual.toString() : actual}`,
    );
  }
}

export class StreamDeletedError extends StoreError {
  constructor(readonly stream: string) {
    super('stream-deleted', `Stream "${stream}" is deleted`);
  }
}

export class StreamNotFoundError extends StoreError {
  constructor(readonly stream: string) {
    super('stream-not-found', `Stream "${stream}" not found`);
  }
}

export class InvalidArgumentError extends StoreError {
  constructor(message: string) {
    super('invalid-argument', message);
  }
}

export class AccessDeniedError extends StoreError {
  constructor(message = 'Access denied') {
    super('access-denied', message);
  }
}

export class MaximumAppendSizeExceededError extends StoreError {
  constructor(readonly maxAppendSize: number, readonly actualSize?: number) {
    super('maximum-append-size-exceeded', `Append of ${actualSize ?? 'unknown'} bytes exceeds the maximum append size of ${maxAppendSize} bytes`);
  }
}

export class UnavailableError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

export class StoreClosedError extends StoreError {
  constructor() {
    super('closed', 'The event store is closed');
  }
}
