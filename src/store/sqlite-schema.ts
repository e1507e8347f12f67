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
  refuseOther(version);
  // BEGIN IMMEDIATE: two processes opening a new file at once must not both create it; the second
  // finds the version set once it holds the lock.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current === SCHEMA_VERSION) return;
    refuseOther(current);
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * Version 0 is a new, empty file. Files of schema version 1 (text stream names in the indexes) are
 * refused rather than migrated: they were written only by development builds before any release.
 */
function refuseOther(version: number): void {
  if (version === 0) return;
  if (version > SCHEMA_VERSION) {
    throw new Error(`The store file has schema version ${version}, newer than this cadenza understands (${SCHEMA_VERSION})`);
  }
  throw new Error(
    `The store file has schema version ${version}, written by an earlier development build of cadenza; this version reads only schema ${SCHEMA_VERSION} and does not migrate it. Start with a new file (or delete this one).`,
  );
}
