/**
 * The sqlite store's schema and connection settings. One row per event in `events`, whose rowid is
 * the global log position (dense and strictly increasing: rows are never deleted and only one writer
 * holds the write lock at a time); one row per stream in `streams` with its head and delete state.
 *
 * The events' indexes are keyed by the stream's integer id (its `streams` rowid), not its name:
 * streams are numbered in order of creation, so the index entries of the streams being written now
 * sit together at the end of the index instead of at random places under long text keys. The name is
 * kept in each event row as well, so reads return it without a join.
 */
import Database from 'better-sqlite3';

export type Durability = 'full' | 'normal';

const SCHEMA_VERSION = 2;

/** Page size of new store files. */
export const PAGE_SIZE = 8192;

const SCHEMA = `
CREATE TABLE streams (
  id                INTEGER PRIMARY KEY,
  name              TEXT    NOT NULL UNIQUE,
  last_revision     INTEGER NOT NULL DEFAULT -1,
  truncate_before   INTEGER NOT NULL DEFAULT 0,
  tombstoned        INTEGER NOT NULL DEFAULT 0,
  metadata_revision INTEGER NOT NULL DEFAULT -1,
  metadata          TEXT
);
CREATE TABLE events (
  position  INTEGER PRIMARY KEY,
  stream_id INTEGER NOT NULL,
  stream    TEXT    NOT NULL,
  revision  INTEGER NOT NULL,
  event_id  TEXT    NOT NULL,
  type      TEXT    NOT NULL,
  data      TEXT    NOT NULL,
  metadata  TEXT,
  created   INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_by_stream ON events (stream_id, revision);
CREATE INDEX events_by_id ON events (stream_id, event_id);
`;

export interface ConnectionSettings {
  readonly durability: Durability;
  /** How long a writer waits for another process's write lock before failing. */
  readonly busyTimeoutMs: number;
}

/** Open (and create or migrate) a store database; `:memory:` for an in-memory one. */
export function openDatabase(path: string, settings: ConnectionSettings): Database.Database {
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
    // 8 KB pages for a new file (an existing file keeps its own: the pragma is then a no-op): the
    // engine's rows are ~0.5-5 KB, and with 4 KB pages a commit wrote ~20% more (a WorkflowStarted
    // row with its definition snapshot does not fit a 4 KB page), measured with a scratch script
    // inserting the engine's row mix: 6.2 vs 7.8 µs of CPU per row. 16 KB was no cheaper in CPU and
    // slower to sync. Must come before the first write (WAL mode writes the header).
    db.pragma(`page_size = ${PAGE_SIZE}`);
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    // FULL syncs the WAL on every commit: an acknowledged append survives a power cut. NORMAL syncs
    // only at checkpoints: it survives a process crash but may lose the last commits on power loss.
    db.pragma(`synchronous = ${settings.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  refuseNewer(version);
  // BEGIN IMMEDIATE: two processes opening a new (or old) file at once must not both create or
  // migrate it; the second finds the version set once it holds the lock.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current === SCHEMA_VERSION) return;
    refuseNewer(current);
    if (current === 1) db.exec(FROM_VERSION_1);
    else db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function refuseNewer(version: number): void {
  if (version > SCHEMA_VERSION) {
    throw new Error(`The store file has schema version ${version}, newer than this cadenza understands (${SCHEMA_VERSION})`);
  }
}

/**
 * Schema 1 to 2, in the migration's transaction: the same events at the same positions, the same
 * stream state. Streams are numbered in order of their first event (streams with a row but no events
 * after them), as they would have been had the file been written with schema 2.
 */
const FROM_VERSION_1 = `
ALTER TABLE streams RENAME TO streams_v1;
ALTER TABLE events RENAME TO events_v1;
DROP INDEX events_by_stream;
DROP INDEX events_by_id;
${SCHEMA}
INSERT INTO streams (name) SELECT stream FROM events_v1 GROUP BY stream ORDER BY min(position);
INSERT INTO streams (name) SELECT name FROM streams_v1 WHERE name NOT IN (SELECT name FROM streams) ORDER BY name;
UPDATE streams SET (truncate_before, tombstoned, metadata_revision, metadata) =
  (SELECT truncate_before, tombstoned, metadata_revision, metadata FROM streams_v1 v WHERE v.name = streams.name)
  WHERE name IN (SELECT name FROM streams_v1);
INSERT INTO events (position, stream_id, stream, revision, event_id, type, data, metadata, created)
  SELECT e.position, s.id, e.stream, e.revision, e.event_id, e.type, e.data, e.metadata, e.created
  FROM events_v1 e JOIN streams s ON s.name = e.stream ORDER BY e.position;
UPDATE streams SET last_revision = coalesce((SELECT max(revision) FROM events WHERE stream_id = streams.id), -1);
DROP TABLE events_v1;
DROP TABLE streams_v1;
`;
