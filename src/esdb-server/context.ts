/** What every handler needs: the store behind the server, its limits, and the access check. */
import type { EventStore, ExpectedRevision } from '../store/port.js';
import type { Authorizer } from './auth.js';
import type { RecentWriters } from './writers.js';

export interface HandlerContext {
  readonly store: EventStore;
  /** EventStoreDB's MaxAppendSize: the sum of event sizes one append may carry (default 1 MiB). */
  readonly maxAppendSize: number;
  /** EventStoreDB's WriteTimeoutMs: the longest a BatchAppend append may take to arrive, whatever its deadline. */
  readonly writeTimeoutMs: number;
  readonly authorize: Authorizer;
  /** Who wrote the recent appends, for subscriptions that leave a writer's appends out (writers.ts). */
  readonly writers: RecentWriters;
  /** Track a long-running call (subscription) so a shutdown can end it with UNAVAILABLE. */
  readonly track: (stop: () => void) => () => void;
}

export const DEFAULT_MAX_APPEND_SIZE = 1024 * 1024;

/** The oneof of expected revisions shared by Append, BatchAppend, Delete and Tombstone options. */
export interface ExpectedRevisionOptions {
  hasAny(): boolean;
  hasNoStream(): boolean;
  hasStreamExists(): boolean;
}

export function decodeExpectedRevision(options: ExpectedRevisionOptions, revision: () => string | undefined): ExpectedRevision | undefined {
  if (options.hasAny()) return 'any';
  if (options.hasNoStream()) return 'no_stream';
  if (options.hasStreamExists()) return 'stream_exists';
  const exact = revision();
  if (exact === undefined || !/^\d+$/.test(exact)) return undefined;
  return BigInt(exact);
}
