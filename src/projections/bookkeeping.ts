/**
 * The runner's own tables: one checkpoint row per projection, and the poison events it skipped.
 * Both are written in the same transaction as the read model they belong to.
 */
import type { Database } from 'better-sqlite3';
import type { Position, RecordedEvent } from '../store/port.js';

export function installBookkeeping(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS projection_checkpoint (
      projection TEXT PRIMARY KEY,
      version INTEGER NOT NULL,
      position_commit INTEGER,
      position_prepare INTEGER,
      generation INTEGER NOT NULL,
      events_applied INTEGER NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS projection_poison (
      projection TEXT NOT NULL,
      position_commit INTEGER NOT NULL,
      position_prepare INTEGER NOT NULL,
      stream TEXT NOT NULL,
      revision INTEGER NOT NULL,
      event_id TEXT NOT NULL,
      event_type TEXT NOT NULL,
      reason TEXT NOT NULL,
      recorded_at TEXT NOT NULL,
      PRIMARY KEY (projection, position_commit, position_prepare)
    );
  `);
}

export interface Checkpoint {
  readonly projection: string;
  readonly version: number;
  /** Last position folded in (or passed by the filter); undefined: nothing yet. */
  readonly position: Position | undefined;
  /** Incremented by every commit: a runner that finds another generation than it wrote lost a race. */
  readonly generation: number;
  readonly eventsApplied: number;
  readonly updatedAt: string;
}

interface CheckpointRow {
  projection: string;
  version: bigint;
  position_commit: bigint | null;
  position_prepare: bigint | null;
  generation: bigint;
  events_applied: bigint;
  updated_at: string;
}

export function readCheckpoint(db: Database, projection: string): Checkpoint | undefined {
  const row = db
    .prepare('SELECT * FROM projection_checkpoint WHERE projection = ?')
    .safeIntegers(true)
    .get(projection) as CheckpointRow | undefined;
  if (!row) return undefined;
  return {
    projection: row.projection,
    version: Number(row.version),
    position:
      row.position_commit === null || row.position_prepare === null
        ? undefined
        : { commit: row.position_commit, prepare: row.position_prepare },
    generation: Number(row.generation),
    eventsApplied: Number(row.events_applied),
    updatedAt: row.updated_at,
  };
}

export function writeCheckpoint(db: Database, checkpoint: Checkpoint): void {
  db.prepare(
    `INSERT INTO projection_checkpoint (projection, version, position_commit, position_prepare, generation, events_applied, updated_at)
     VALUES (@projection, @version, @commit, @prepare, @generation, @eventsApplied, @updatedAt)
     ON CONFLICT (projection) DO UPDATE SET version = excluded.version, position_commit = excluded.position_commit,
       position_prepare = excluded.position_prepare, generation = excluded.generation,
       events_applied = excluded.events_applied, updated_at = excluded.updated_at`,
  ).run({
    projection: checkpoint.projection,
    version: checkpoint.version,
    commit: checkpoint.position?.commit ?? null,
    prepare: checkpoint.position?.prepare ?? null,
    generation: checkpoint.generation,
    eventsApplied: checkpoint.eventsApplied,
    updatedAt: checkpoint.updatedAt,
  });
}

export function listCheckpoints(db: Database): Checkpoint[] {
  const names = db.prepare('SELECT projection FROM projection_checkpoint ORDER BY projection').pluck().all() as string[];
  return names.map((name) => readCheckpoint(db, name)).filter((c): c is Checkpoint => c !== undefined);
}

export interface PoisonRecord {
  readonly projection: string;
  readonly position: Position;
  readonly stream: string;
  readonly revision: bigint;
  readonly eventId: string;
  readonly eventType: string;
  readonly reason: string;
  readonly recordedAt: string;
}

export function recordPoison(db: Database, projection: string, event: RecordedEvent, reason: string, now: Date): void {
  db.prepare(
    `INSERT OR REPLACE INTO projection_poison
     (projection, position_commit, position_prepare, stream, revision, event_id, event_type, reason, recorded_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(projection, event.position.commit, event.position.prepare, event.stream, event.revision, event.id, event.type, reason, now.toISOString());
}

interface PoisonRow {
  projection: string;
  position_commit: bigint;
  position_prepare: bigint;
  stream: string;
  revision: bigint;
  event_id: string;
  event_type: string;
  reason: string;
  recorded_at: string;
}

export function listPoison(db: Database, projection?: string): PoisonRecord[] {
  const rows = db
    .prepare(
      `SELECT * FROM projection_poison WHERE (@projection IS NULL OR projection = @projection)
       ORDER BY projection, position_commit, position_prepare`,
    )
    .safeIntegers(true)
    .all({ projection: projection ?? null }) as PoisonRow[];
  return rows.map((row) => ({
    projection: row.projection,
    position: { commit: row.position_commit, prepare: row.position_prepare },
    stream: row.stream,
    revision: row.revision,
    eventId: row.event_id,
    eventType: row.event_type,
    reason: row.reason,
    recordedAt: row.recorded_at,
  }));
}

export function clearPoison(db: Database, projection: string): void {
  db.prepare('DELETE FROM projection_poison WHERE projection = ?').run(projection);
}
