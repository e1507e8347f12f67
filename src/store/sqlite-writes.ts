/**
 * The write operations of the sqlite store, each run inside the group-commit transaction. An
 * operation either throws a StoreError before it has written anything (so the others in the batch
 * can still commit), or writes and returns its result.
 */
import { StreamDeletedError, WrongExpectedVersionError } from './errors.js';
import type { AppendResult, DeleteResult, ExpectedRevision, Position, StreamMetadata } from './port.js';
import type { StreamHeads } from './sqlite-heads.js';
import type { Statements, StreamRow } from './sqlite-rows.js';
import type { SerializedEvent } from './validation.js';

/** What the write operations run with: the connection's statements and its cache of stream heads. */
export interface WriteContext {
  readonly statements: Statements;
  readonly heads: StreamHeads;
  /** Event rows the current request inserted: the batch runner zeroes it before each request, `appendEvents` sets it when it inserts. */
  written: number;
}

const NO_ROW: StreamRow = { id: 0, last_revision: -1, truncate_before: 0, tombstoned: 0, metadata_revision: -1, metadata: null };

export function streamState(statements: Statements, stream: string): StreamRow {
  return statements.streamState.get(stream) ?? NO_ROW;
}

/** A stream's row inside a write transaction: from the head cache when it can be trusted. */
function headOf(context: WriteContext, stream: string): StreamRow {
  return context.heads.get(stream) ?? streamState(context.statements, stream);
}

/** A stream exists when it has events that are not soft-deleted (truncated). */
export function streamExists(state: StreamRow): boolean {
  return state.last_revision >= state.truncate_before && state.last_revision >= 0;
}

export function toPosition(position: number): Position {
  const value = BigInt(position);
  return { commit: value, prepare: value };
}

export function headPosition(statements: Statements): Position {
  return toPosition(statements.headPosition.get() ?? 0);
}

function actualRevision(last: number): bigint | 'no_stream' {
  return last >= 0 ? BigInt(last) : 'no_stream';
}

function checkExpected(stream: string, expected: ExpectedRevision, last: number, exists: boolean): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && !exists) ||
    (expected === 'stream_exists' && exists) ||
    (typeof expected === 'bigint' && expected === BigInt(last));
  if (!ok) throw new WrongExpectedVersionError(stream, expected, actualRevision(last));
}

export function appendEvents(
  context: WriteContext,
  stream: string,
  events: readonly SerializedEvent[],
  expected: ExpectedRevision,
  now: number,
): AppendResult {
  const { statements } = context;
  const state = headOf(context, stream);
  if (state.tombstoned) throw new StreamDeletedError(stream);
  const replay = events.length > 0 ? findOriginalAppend(statements, stream, events, expected, state) : undefined;
  if (replay) return replay;
  checkExpected(stream, expected, state.last_revision, streamExists(state));
  if (events.length === 0) return { nextExpectedRevision: BigInt(state.last_revision), position: headPosition(statements) };

  const last = state.last_revision + events.length;
  // A new stream's row is created first, with its final head, for the id its events are indexed by.
  const id = state.id !== 0 ? state.id : Number(statements.createStream.run(stream, last).lastInsertRowid);
  let revision = state.last_revision;
  let position = 0;
  for (const event of events) {
    revision += 1;
    position = Number(statements.insertEvent.run(id, stream, revision, event.id, event.type, event.data, event.metadata, now).lastInsertRowid);
  }
  if (state.id !== 0) statements.setHead.run(revision, id);
  context.written = events.length;
  context.heads.set(stream, {
    id,
    last_revision: revision,
    truncate_before: state.truncate_before,
    tombstoned: state.tombstoned,
    metadata_revision: state.metadata_revision,
    metadata: state.metadata,
  });
  return { nextExpectedRevision: BigInt(revision), position: toPosition(position) };
}

/**
 * Idempotent re-append: if the events' ids are already in the stream exactly where this append would
 * have put them (or, for `any`, where its first id was found), return the original result. A partial
 * match is a conflict, as in EventStoreDB.
 */
function findOriginalAppend(
  statements: Statements,
  stream: string,
  events: readonly SerializedEvent[],
  expected: ExpectedRevision,
  state: StreamRow,
): AppendResult | undefined {
  const last = state.last_revision;
  let start: number | undefined;
  if (typeof expected === 'bigint') start = Number(expected) + 1;
  else if (expected === 'no_stream') start = state.truncate_before;
  else if (last >= 0) start = statements.findEventId.get(state.id, (events[0] as SerializedEvent).id, state.truncate_before);
  if (start === undefined || start > last) return undefined;

  const stored = statements.idsFrom.all(state.id, start, events.length);
  let matching = 0;
  while (matching < stored.length && stored[matching]?.[0] === events[matching]?.id) matching += 1;
  if (matching === 0) return undefined;
  if (matching < events.length) throw new WrongExpectedVersionError(stream, expected, actualRevision(last));
  const lastStored = stored[matching - 1] as [string, number];
  return { nextExpectedRevision: BigInt(start + matching - 1), position: toPosition(lastStored[1]) };
}

export function deleteStream(context: WriteContext, stream: string, expected: ExpectedRevision, tombstone: boolean): DeleteResult {
  const { statements } = context;
  const state = headOf(context, stream);
  if (state.tombstoned) throw new StreamDeletedError(stream);
  checkExpected(stream, expected, state.last_revision, streamExists(state));
  // Deletes and metadata are rare: the row is read from the table again on the next write.
  context.heads.forget(stream);
  if (tombstone) statements.setTombstoned.run(stream);
  else statements.setTruncateBefore.run(stream, state.last_revision + 1);
  return { position: headPosition(statements) };
}

/** Metadata is versioned like EventStoreDB's `$$stream`: the expected revision is the metadata's own. */
export function setStreamMetadata(
  context: WriteContext,
  stream: string,
  metadata: StreamMetadata,
  expected: ExpectedRevision,
): AppendResult {
  const { statements } = context;
  const state = headOf(context, stream);
  if (state.tombstoned) throw new StreamDeletedError(stream);
  const metadataStream = `$$${stream}`;
  checkExpected(metadataStream, expected, state.metadata_revision, state.metadata_revision >= 0);
  const revision = state.metadata_revision + 1;
  const { maxCount, maxAge, custom } = metadata;
  // As in EventStoreDB, the truncation point is part of the metadata: setting metadata without it
  // lifts an earlier truncation (and so un-deletes a soft-deleted stream).
  const truncateBefore = metadata.truncateBefore === undefined ? 0 : Number(metadata.truncateBefore);
  context.heads.forget(stream);
  statements.setMetadata.run(stream, revision, JSON.stringify({ maxCount, maxAge, custom }), truncateBefore);
  return { nextExpectedRevision: BigInt(revision), position: headPosition(statements) };
}

export function readStreamMetadata(state: StreamRow): StreamMetadata | undefined {
  if (state.metadata === null && state.truncate_before === 0) return undefined;
  const stored = (state.metadata === null ? {} : JSON.parse(state.metadata)) as Omit<StreamMetadata, 'truncateBefore'>;
  return {
    ...(stored.maxCount !== undefined && { maxCount: stored.maxCount }),
    ...(stored.maxAge !== undefined && { maxAge: stored.maxAge }),
    ...(state.truncate_before > 0 && { truncateBefore: BigInt(state.truncate_before) }),
    ...(stored.custom !== undefined && { custom: stored.custom }),
  };
}
