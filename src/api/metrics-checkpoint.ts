/**
 * Where `/metrics` keeps its fold of the log between runs: one row in the read-model database (the
 * one the API server answers its read models from, next to the store by default), holding the
 * counters and what the fold knows of each workflow, with the log position they cover. A server that
 * starts again folds on from that position instead of from the start of the log, as the projections
 * do from their checkpoints. Several servers over one store share the row: any of them may resume
 * from the newest, since each snapshot counts every workflow event exactly once up to its position
 * (and knows which later ones its runtime counted ahead: metrics.ts).
 */
import type { ReadModelDb } from '../projections/readmodel-db.js';
import type { Position } from '../store/port.js';

/** A snapshot of the fold, as metrics.ts writes it; `version` names its shape. */
export interface SavedFold {
  readonly version: number;
  /** The log position the counts cover: the fold resumes after it. */
  readonly position: Position;
  /** The id of the log's first event: a snapshot of another store (one deleted and made again) is not used. */
  readonly firstEventId: string;
  readonly state: unknown;
}

export class MetricsCheckpoint {
  constructor(
    private readonly db: ReadModelDb,
    private readonly name = 'metrics',
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS metrics_checkpoint (
      name TEXT PRIMARY KEY,
      version INTEGER NOT NULL,
      position_commit INTEGER NOT NULL,
      position_prepare INTEGER NOT NULL,
      first_event_id TEXT NOT NULL,
      state TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`);
  }

  load(): SavedFold | undefined {
    const row = this.db.prepare('SELECT version, position_commit, position_prepare, first_event_id, state FROM metrics_checkpoint WHERE name = ?').safeIntegers(true).get(this.name) as
      | { version: bigint; position_commit: bigint; position_prepare: bigint; first_event_id: string; state: string }
      | undefined;
    if (!row) return undefined;
    return { version: Number(row.version), position: { commit: row.position_commit, prepare: row.position_prepare }, firstEventId: row.first_event_id, state: JSON.parse(row.state) as unknown };
  }

  /** Keeps the newest: a snapshot behind the one stored (another server's) is dropped. */
  save(fold: SavedFold): void {
    this.db
      .prepare(
        `INSERT INTO metrics_checkpoint (name, version, position_commit, position_prepare, first_event_id, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, position_commit = excluded.position_commit, position_prepare = excluded.position_prepare,
           first_event_id = excluded.first_event_id, state = excluded.state, updated_at = excluded.updated_at
         WHERE excluded.position_commit >= metrics_checkpoint.position_commit OR excluded.version <> metrics_checkpoint.version OR excluded.first_event_id <> metrics_checkpoint.first_event_id`,
      )
      .run(this.name, fold.version, fold.position.commit, fold.position.prepare, fold.firstEventId, JSON.stringify(fold.state), new Date().toISOString());
  }
}
