/**
 * Paged reads of one stream and of `$all`. Each page is one synchronous query; the generator yields
 * its events and only then reads the next page, so no history is ever held in memory whole.
 */
import { StreamDeletedError, StreamNotFoundError } from './errors.js';
import type { Direction, Position, RecordedEvent, StreamMetadata } from './port.js';
import { decodeEvent, type EventRow, type Statements } from './sqlite-rows.js';
import { readStreamMetadata, streamState } from './sqlite-writes.js';
import type { CompiledFilter } from './validation.js';

export interface ReadContext {
  readonly statements: Statements;
  readonly pageSize: number;
  /** Throws StoreClosedError once the store is closed. */
  assertOpen(): void;
}

export interface StreamReadRequest {
  readonly stream: string;
  readonly direction: Direction;
  readonly from: 'start' | 'end' | bigint;
  readonly maxCount: number;
}

/** The revisions and age of a stream's events that its metadata and deletion leave visible. */
function visibleWindow(last: number, truncateBefore: number, metadata: StreamMetadata | undefined, now: number) {
  const byCount = metadata?.maxCount === undefined ? 0 : last - metadata.maxCount + 1;
  return {
    low: Math.max(truncateBefore, byCount, 0),
    minCreated: metadata?.maxAge === undefined ? 0 : now - metadata.maxAge * 1000,
  };
}

export async function* readStreamPages(context: ReadContext, request: StreamReadRequest): AsyncGenerator<RecordedEvent> {
  context.assertOpen();
  const { statements, pageSize } = context;
  const { stream, direction, from } = request;
  const state = streamState(statements, stream);
  if (state.tombstoned) throw new StreamDeletedError(stream);
  const last = state.last_revision;
  const { low, minCreated } = visibleWindow(last, state.truncate_before, readStreamMetadata(state), Date.now());
  if (low > last) throw new StreamNotFoundError(stream);

  let remaining = request.maxCount;
  const forwards = direction === 'forwards';
  let cursor = forwards
    ? from === 'start' ? low : from === 'end' ? last + 1 : Math.max(Number(from), low)
    : from === 'end' ? last : from === 'start' ? 0 : Math.min(Number(from), last);
  while (remaining > 0) {
    const limit = Math.min(pageSize, remaining);
    const rows = forwards
      ? statements.streamForwards.all(stream, cursor, last, minCreated, limit)
      : statements.streamBackwards.all(stream, low, cursor, minCreated, limit);
    for (const row of rows) yield decodeEvent(row);
    if (rows.length < limit) return;
    remaining -= rows.length;
    cursor = (rows[rows.length - 1] as EventRow)[2] + (forwards ? 1 : -1);
    context.assertOpen();
  }
}

export interface AllReadRequest {
  readonly direction: Direction;
  readonly from: 'start' | 'end' | Position;
  readonly maxCount: number;
  readonly filter: CompiledFilter | undefined;
}

export async function* readAllPages(context: ReadContext, request: AllReadRequest): AsyncGenerator<RecordedEvent> {
  context.assertOpen();
  const { statements, pageSize } = context;
  const { direction, from, filter } = request;
  const forwards = direction === 'forwards';
  if ((forwards && from === 'end') || (!forwards && from === 'start')) return;
  let cursor = from === 'start' ? 0 : from === 'end' ? Number.MAX_SAFE_INTEGER : Number(from.commit);
  const column = filter?.on === 'type' ? 4 : 1;
  let remaining = request.maxCount;
  while (remaining > 0) {
    // A filter is applied here rather than in SQL: it needs no index and costs one string test a row.
    const limit = filter ? pageSize : Math.min(pageSize, remaining);
    const rows = forwards ? statements.allForwards.all(cursor, limit) : statements.allBackwards.all(cursor, limit);
    for (const row of rows) {
      if (filter && !filter.matches(row[column])) continue;
      yield decodeEvent(row);
      if (--remaining === 0) return;
    }
    if (rows.length < limit) return;
    cursor = (rows[rows.length - 1] as EventRow)[0];
    context.assertOpen();
  }
}
