/**
 * The sqlite store's schema and connection settings. One row per event in `events`, whose rowid is
 * the global log position (dense and strictly increasing: rows are never deleted and only one writer
 * holds the write lock at a time); one row per stream in `streams` with its head and delete state.
 */
import Database from 'better-sqlite3';

export type Durability = 'full' | 'normal';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY,
  stream   TEXT    NOT NULL,
  revision INTEGER NOT NULL,
  event_id TEXT    NOT NULL,
  type     TEXT    NOT NULL,
  data     TEXT    NOT NULL,
  metadata TEXT,
  created  INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream, revision);
CREATE INDEX IF NOT EXISTS events_by_id ON events (event_id);
CREATE TABLE IF NOT EXISTS streams (
  name              TEXT PRIMARY KEY,
  last_revision     INTEGER NOT NULL DEFAULT -1,
  truncate_before   INTEGER NOT NULL DEFAULT 0,
  tombstoned        INTEGER NOT NULL DEFAULT 0,
  metadata_revision INTEGER NOT NULL DEFAULT -1,
  metadata          TEXT
) WITHOUT ROWID;
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
  if (version > SCHEMA_VERSION) {
    throw new Error(`The store file has schema version ${version}, newer than this cadenza understands (${SCHEMA_VERSION})`);
  }
  // BEGIN IMMEDIATE: two processes opening a new file at once must not both create it.
  db.transaction(() => {
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
