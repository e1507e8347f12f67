/**
 * The prepared statements of the sqlite store and the decoding of event rows. Rows are read raw
 * (arrays, not objects) and decoded in one place with as little per-row work as possible: reads and
 * catch-up subscriptions are the hot path.
 */
import type Database from 'better-sqlite3';
import type { JsonObject, RecordedEvent } from './port.js';

/** An event row as selected by {@link EVENT_COLUMNS}. */
export type EventRow = [
  position: number,
  stream: string,
  revision: number,
  eventId: string,
  type: string,
  /** JSON text, or a Buffer for a binary event (a BLOB). */
  data: string | Buffer,
  metadata: string | Buffer | null,
  created: number,
];

/** An event's header as selected by `allHeadersForwards`. */
export type HeaderRow = [position: number, stream: string, revision: number, type: string];

export const ROW_POSITION = 0;
export const ROW_STREAM = 1;
export const ROW_REVISION = 2;
export const ROW_EVENT_ID = 3;
export const ROW_TYPE = 4;

const EVENT_COLUMNS = 'position, stream, revision, event_id, type, data, metadata, created';

export function decodeEvent(row: EventRow): RecordedEvent {
  const position = BigInt(row[0]);
  return {
    id: row[3],
    type: row[4],
    data: typeof row[5] === 'string' ? JSON.parse(row[5]) : bytesOf(row[5]),
    metadata: row[6] === null ? {} : typeof row[6] === 'string' ? (JSON.parse(row[6]) as JsonObject) : bytesOf(row[6]),
    stream: row[1],
    revision: BigInt(row[2]),
    position: { commit: position, prepare: position },
    created: new Date(row[7]),
  };
}

/** A BLOB as the port's plain Uint8Array (better-sqlite3 returns a Buffer of its own). */
function bytesOf(blob: Buffer): Uint8Array {
  return new Uint8Array(blob.buffer, blob.byteOffset, blob.length);
}

export interface StreamRow {
  /** The stream's rowid in `streams`; 0 for a stream that has no row yet. */
  readonly id: number;
  readonly last_revision: number;
  readonly truncate_before: number;
  readonly tombstoned: number;
  readonly metadata_revision: number;
  readonly metadata: string | null;
}

/**
 * Every statement the store runs, by name. Written out (not inferred) because the declaration build
 * cannot name the inferred types: better-sqlite3's types resolve to a namespace they do not export.
 */
interface PreparedStatements {
  readonly streamState: Database.Statement<[string], StreamRow>;
  readonly insertEvent: Database.Statement<[number, string, number, string, string, string | Uint8Array, string | Uint8Array | null, number]>;
  readonly createStream: Database.Statement<[string, number]>;
  readonly setHead: Database.Statement<[number, number]>;
  readonly setTruncateBefore: Database.Statement<[string, number]>;
  readonly setTombstoned: Database.Statement<[string]>;
  readonly setMetadata: Database.Statement<[string, number, string, number]>;
  readonly idsFrom: Database.Statement<[number, number, number], [string, number]>;
  readonly findEventId: Database.Statement<[number, string, number], number>;
  readonly headPosition: Database.Statement<[], number | null>;
  readonly dataVersion: Database.Statement<[], number>;
  readonly streamForwards: Database.Statement<[number, number, number, number, number], EventRow>;
  readonly streamBackwards: Database.Statement<[number, number, number, number, number], EventRow>;
  readonly allForwards: Database.Statement<[number, number], EventRow>;
  readonly allHeadersForwards: Database.Statement<[number, number], HeaderRow>;
  readonly allRange: Database.Statement<[number, number], EventRow>;
  readonly eventAt: Database.Statement<[number], EventRow>;
  readonly allBackwards: Database.Statement<[number, number], EventRow>;
}

/** Every statement the store runs, prepared once per connection. */
function prepareStatements(db: Database.Database): PreparedStatements {
  const raw = (sql: string) => db.prepare(sql).raw(true);
  return {
    streamState: db.prepare<[string], StreamRow>(
      'SELECT id, last_revision, truncate_before, tombstoned, metadata_revision, metadata FROM streams WHERE name = ?',
    ),
    insertEvent: db.prepare<[number, string, number, string, string, string, string | null, number]>(
      'INSERT INTO events (stream_id, stream, revision, event_id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    /** A new stream's row, with its head already set; returns its id as lastInsertRowid. */
    createStream: db.prepare<[string, number]>('INSERT INTO streams (name, last_revision) VALUES (?, ?)'),
    setHead: db.prepare<[number, number]>('UPDATE streams SET last_revision = ? WHERE id = ?'),
    setTruncateBefore: db.prepare<[string, number]>(
      'INSERT INTO streams (name, truncate_before) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET truncate_before = excluded.truncate_before',
    ),
    setTombstoned: db.prepare<[string]>(
      'INSERT INTO streams (name, tombstoned) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET tombstoned = 1',
    ),
    setMetadata: db.prepare<[string, number, string, number]>(
      `INSERT INTO streams (name, metadata_revision, metadata, truncate_before) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET metadata_revision = excluded.metadata_revision, metadata = excluded.metadata,
       truncate_before = excluded.truncate_before`,
    ),
    /** Event ids of a run of revisions, for the idempotency check. */
    idsFrom: raw('SELECT event_id, position FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?') as Database.Statement<
      [number, number, number],
      [string, number]
    >,
    /** Revision of an event id in a stream, at or after a revision (the first one, through events_by_id). */
    findEventId: db
      .prepare<[number, string, number], number>('SELECT revision FROM events INDEXED BY events_by_id WHERE stream_id = ? AND event_id = ? AND revision >= ? LIMIT 1')
      .pluck(true),
    headPosition: db.prepare<[], number | null>('SELECT max(position) FROM events').pluck(true),
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(true),
    streamForwards: raw(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? AND revision <= ? AND created >= ? ORDER BY revision LIMIT ?`,
    ) as Database.Statement<[number, number, number, number, number], EventRow>,
    streamBackwards: raw(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? AND revision <= ? AND created >= ? ORDER BY revision DESC LIMIT ?`,
    ) as Database.Statement<[number, number, number, number, number], EventRow>,
    allForwards: raw(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`) as Database.Statement<
      [number, number],
      EventRow
    >,
    /** Just enough of a page to filter on, so that filtered-out events are never read in full. */
    allHeadersForwards: raw('SELECT position, stream, revision, type FROM events WHERE position > ? ORDER BY position LIMIT ?') as Database.Statement<
      [number, number],
      HeaderRow
    >,
    allRange: raw(`SELECT ${EVENT_COLUMNS} FROM events WHERE position >= ? AND position <= ? ORDER BY position`) as Database.Statement<
      [number, number],
      EventRow
    >,
    eventAt: raw(`SELECT ${EVENT_COLUMNS} FROM events WHERE position = ?`) as Database.Statement<[number], EventRow>,
    allBackwards: raw(`SELECT ${EVENT_COLUMNS} FROM events WHERE position < ? ORDER BY position DESC LIMIT ?`) as Database.Statement<
      [number, number],
      EventRow
    >,
  };
}

export type Statements = PreparedStatements & { readonly headersWithPrefix: (column: 'stream' | 'type', prefixCount: number) => PrefixHeaders };

/**
 * Headers of the events in a range of positions whose stream name (or type) starts with one of some
 * prefixes, tested by SQLite as it scans: rows that do not match never become JavaScript values.
 * Parameters: after, up to (inclusive), then each prefix twice.
 */
export type PrefixHeaders = Database.Statement<unknown[], HeaderRow>;

export function prepareStoreStatements(db: Database.Database): Statements {
  const prepared = new Map<string, PrefixHeaders>();
  return Object.assign(prepareStatements(db), {
    headersWithPrefix(column: 'stream' | 'type', prefixCount: number): PrefixHeaders {
      const key = `${column}:${prefixCount}`;
      let statement = prepared.get(key);
      if (!statement) {
        // substr and length count characters as SQLite does. Each prefix is passed twice.
        const tests = Array.from({ length: prefixCount }, () => `substr(${column}, 1, length(?)) = ?`).join(' OR ');
        statement = db.prepare(`SELECT position, stream, revision, type FROM events WHERE position > ? AND position <= ? AND (${tests}) ORDER BY position`).raw(true) as PrefixHeaders;
        prepared.set(key, statement);
      }
      return statement;
    },
  });
}
