/**
 * Paged reads of one stream and of `$all`. Each page is one synchronous query whose rows are decoded
 * and handed out one by one before the next page is read, so no history is ever held in memory whole.
 * The iterator is a plain object rather than an async generator: this is the hot path of replay and
 * catch-up, and a generator's suspend/resume per event costs more than the decoding.
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

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const EMPTY_PAGES_BEFORE_YIELD = 8;

/**
 * An async iterable over pages: `nextPage` returns the next page's items (possibly none, when a
 * filter dropped them all) or `undefined` when there are no more. Each iteration starts afresh.
 */
export function fromPages<T>(openPages: () => () => readonly T[] | undefined): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      let nextPage: (() => readonly T[] | undefined) | undefined;
      let page: readonly T[] = [];
      let index = 0;
      let finished = false;
      const iterator: AsyncIterator<T> = {
        next() {
          try {
            nextPage ??= openPages();
            let emptyPages = 0;
            while (index >= page.length) {
              // A filter that matches nothing for long must not hold the event loop for the whole scan.
              if (emptyPages === EMPTY_PAGES_BEFORE_YIELD) return new Promise((resolve) => setImmediate(() => resolve(iterator.next())));
              const fetched = finished ? undefined : nextPage();
              if (fetched === undefined) {
                finished = true;
                return Promise.resolve(DONE);
              }
              page = fetched;
              index = 0;
              emptyPages += 1;
            }
            return Promise.resolve({ done: false, value: page[index++] as T });
          } catch (error) {
            finished = true;
            page = [];
            return Promise.reject(error);
          }
        },
        return() {
          finished = true;
          page = [];
          return Promise.resolve(DONE);
        },
      };
      return iterator;
    },
  };
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

export function readStreamPages(context: ReadContext, request: StreamReadRequest): AsyncIterable<RecordedEvent> {
  return fromPages(() => {
    context.assertOpen();
    const { statements, pageSize } = context;
    const { stream, direction, from } = request;
    const state = streamState(statements, stream);
    if (state.tombstoned) throw new StreamDeletedError(stream);
    const last = state.last_revision;
    const { low, minCreated } = visibleWindow(last, state.truncate_before, readStreamMetadata(state), Date.now());
    if (low > last) throw new StreamNotFoundError(stream);

    const forwards = direction === 'forwards';
    let remaining = request.maxCount;
    let cursor = forwards
      ? from === 'start' ? low : from === 'end' ? last + 1 : Math.max(Number(from), low)
      : from === 'end' ? last : from === 'start' ? 0 : Math.min(Number(from), last);
    return () => {
      if (remaining <= 0) return undefined;
      context.assertOpen();
      const limit = Math.min(pageSize, remaining);
      const rows = forwards
        ? statements.streamForwards.all(state.id, cursor, last, minCreated, limit)
        : statements.streamBackwards.all(state.id, low, cursor, minCreated, limit);
      // A short page is the last one.
      remaining = rows.length < limit ? 0 : remaining - rows.length;
      if (rows.length > 0) cursor = (rows[rows.length - 1] as EventRow)[2] + (forwards ? 1 : -1);
      return rows.map(decodeEvent);
    };
  });
}

export interface AllReadRequest {
  readonly direction: Direction;
  readonly from: 'start' | 'end' | Position;
  readonly maxCount: number;
  readonly filter: CompiledFilter | undefined;
}

export function readAllPages(context: ReadContext, request: AllReadRequest): AsyncIterable<RecordedEvent> {
  return fromPages(() => {
    context.assertOpen();
    const { statements, pageSize } = context;
    const { direction, from, filter } = request;
    const forwards = direction === 'forwards';
    const nothing = (forwards && from === 'end') || (!forwards && from === 'start');
    let remaining = nothing ? 0 : request.maxCount;
    let cursor = from === 'start' ? 0 : from === 'end' ? Number.MAX_SAFE_INTEGER : Number(from.commit);
    const column = filter?.on === 'type' ? 4 : 1;
    // A filtered read cannot know how many rows hold its count: it takes as many as it still wants
    // (a scrape asking for the newest workflow event wants one), twice that on the next page, and so
    // on up to a full page, so a small read near its matches stays small and a sparse one soon reads
    // full pages.
    let span = 0;
    return () => {
      if (remaining <= 0) return undefined;
      context.assertOpen();
      // A filter is applied here rather than in SQL: it needs no index and costs one string test a row.
      const limit = Math.min(pageSize, filter ? Math.max(remaining, span) : remaining);
      span = limit * 2;
      const rows = forwards ? statements.allForwards.all(cursor, limit) : statements.allBackwards.all(cursor, limit);
      const page: RecordedEvent[] = [];
      for (const row of rows) {
        if (remaining === page.length) break;
        if (!filter || filter.matches(row[column])) page.push(decodeEvent(row));
      }
      remaining = rows.length < limit ? 0 : remaining - page.length;
      if (rows.length > 0) cursor = (rows[rows.length - 1] as EventRow)[0];
      return page;
    };
  });
}
