/**
 * The audit index's storage: one row per event in `$all` order (`seq`), with an index per filter
 * column that ends in `seq`, so a filtered, ordered, limited query reads only matching rows.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { Projection, StreamFilter } from '../../src/projections/projection.js';
import type { RecordedEvent } from '../../src/store/port.js';
import { auditRowOf } from './row.js';

export const AUDIT_TABLE = 'audit_event';

const ddl = `
  CREATE TABLE IF NOT EXISTS ${AUDIT_TABLE} (
    seq INTEGER PRIMARY KEY,
    position_commit INTEGER NOT NULL,
    position_prepare INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    category TEXT NOT NULL,
    revision INTEGER NOT NULL,
    type TEXT NOT NULL,
    time INTEGER NOT NULL,
    workflow_id TEXT,
    correlation_id TEXT,
    causation_id TEXT,
    agent_id TEXT,
    step_id TEXT
  );
  CREATE UNIQUE INDEX IF NOT EXISTS ${AUDIT_TABLE}_position ON ${AUDIT_TABLE} (position_commit, position_prepare);
  CREATE INDEX IF NOT EXISTS ${AUDIT_TABLE}_workflow ON ${AUDIT_TABLE} (workflow_id, seq) WHERE workflow_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS ${AUDIT_TABLE}_correlation ON ${AUDIT_TABLE} (correlation_id, seq) WHERE correlation_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS ${AUDIT_TABLE}_causation ON ${AUDIT_TABLE} (causation_id) WHERE causation_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS ${AUDIT_TABLE}_agent ON ${AUDIT_TABLE} (agent_id, seq) WHERE agent_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS ${AUDIT_TABLE}_type ON ${AUDIT_TABLE} (type, seq);
  CREATE INDEX IF NOT EXISTS ${AUDIT_TABLE}_category ON ${AUDIT_TABLE} (category, seq);
  CREATE INDEX IF NOT EXISTS ${AUDIT_TABLE}_stream ON ${AUDIT_TABLE} (stream, seq);
  CREATE INDEX IF NOT EXISTS ${AUDIT_TABLE}_time ON ${AUDIT_TABLE} (time);
`;

export interface AuditIndexOptions {
  /** Streams to index. Default: every stream but system streams (`$...`). */
  readonly filter?: StreamFilter;
}

export class AuditIndexProjection implements Projection {
  readonly name = 'audit-index';
  readonly version = 1;
  readonly filter: StreamFilter;
  private insert: { db: Database; statement: Statement } | undefined;

  constructor(options: AuditIndexOptions = {}) {
    this.filter = options.filter ?? { streamNameRegex: '^[^$]' };
  }

  install(db: Database): void {
    db.exec(ddl);
  }

  clear(db: Database): void {
    db.prepare(`DELETE FROM ${AUDIT_TABLE}`).run();
  }

  apply(db: Database, event: RecordedEvent): void {
    const row = auditRowOf(event);
    this.statement(db).run(
      row.position.commit, row.position.prepare, row.eventId, row.stream, row.category, row.revision, row.type, row.time,
      row.workflowId, row.correlationId, row.causationId, row.agentId, row.stepId,
    );
  }

  flush(): void {
    // Rows are inserted as they come: nothing is buffered.
  }

  discard(): void {
    // Nothing cached.
  }

  private statement(db: Database): Statement {
    if (this.insert?.db !== db) {
      this.insert = {
        db,
        statement: db.prepare(
          `INSERT INTO ${AUDIT_TABLE} (position_commit, position_prepare, event_id, stream, category, revision, type, time,
             workflow_id, correlation_id, causation_id, agent_id, step_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
      };
    }
    return this.insert.statement;
  }
}
