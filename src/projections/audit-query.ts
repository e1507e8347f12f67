/**
 * Audit queries over the audit index: filters on the indexed fields, results in `$all` order, paged
 * by position. The same function serves the CLI and (later) the HTTP API. Event data and metadata
 * are not copied into the index: `withEventData` reads them from the store, one event per row.
 */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import type { AuditRow } from '../../projections/audit-index/row.js';
import { AUDIT_TABLE } from '../../projections/audit-index/storage.js';
import { jsonView, metadataObject, type EventStore, type Json, type JsonObject, type Position } from '../store/port.js';

export const auditFilterSchema = z.strictObject({
  workflowId: z.string().min(1).optional(),
  correlationId: z.string().min(1).optional(),
  causationId: z.string().min(1).optional(),
  /** Any of these event types. */
  types: z.array(z.string().min(1)).min(1).optional(),
  agentId: z.string().min(1).optional(),
  stepId: z.string().min(1).optional(),
  /** A stream name (`workflow-42`), or a category when it has no `-` (`workflow`). */
  stream: z.string().min(1).optional(),
  /** Inclusive. */
  since: z.date().optional(),
  /** Exclusive. */
  until: z.date().optional(),
  /** Results strictly after (ascending) or before (descending) this position: the paging cursor. */
  after: z.object({ commit: z.bigint(), prepare: z.bigint() }).optional(),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: z.number().int().min(1).max(100_000).default(100),
});

export type AuditFilter = z.input<typeof auditFilterSchema>;

/** One audit result: the indexed fields of an event, its time as ISO 8601 UTC (when the store recorded it). */
export type AuditEntry = Omit<AuditRow, 'time'> & { readonly time: string };

export type AuditEntryWithData = AuditEntry & { readonly data: Json; readonly metadata: JsonObject };

export interface AuditPage<E extends AuditEntry = AuditEntry> {
  readonly entries: readonly E[];
  /** Pass as `after` for the next page; undefined when this page was the last. */
  readonly next: Position | undefined;
}

/** A row of the audit table as SQLite returns it (integers as bigint). */
export interface AuditRowRecord {
  seq: bigint;
  position_commit: bigint;
  position_prepare: bigint;
  event_id: string;
  stream: string;
  category: string;
  revision: bigint;
  type: string;
  time: bigint;
  workflow_id: string | null;
  correlation_id: string | null;
  causation_id: string | null;
  agent_id: string | null;
  step_id: string | null;
}

export function queryAudit(db: Database, filter: AuditFilter): AuditPage {
  const f = auditFilterSchema.parse(filter);
  const where: string[] = [];
  const params: (string | number | bigint)[] = [];
  const equal = (column: string, value: string | undefined): void => {
    if (value === undefined) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  equal('workflow_id', f.workflowId);
  equal('correlation_id', f.correlationId);
  equal('causation_id', f.causationId);
  equal('agent_id', f.agentId);
  equal('step_id', f.stepId);
  if (f.stream !== undefined) equal(f.stream.includes('-') ? 'stream' : 'category', f.stream);
  if (f.types) {
    where.push(`type IN (${f.types.map(() => '?').join(', ')})`);
    params.push(...f.types);
  }
  if (f.since) {
    where.push('time >= ?');
    params.push(f.since.getTime());
  }
  if (f.until) {
    where.push('time < ?');
    params.push(f.until.getTime());
  }
  if (f.after) {
    // The position of the cursor row, compared as a tuple: the cursor need not be in the result set.
    where.push(f.order === 'asc' ? '(position_commit, position_prepare) > (?, ?)' : '(position_commit, position_prepare) < (?, ?)');
    params.push(f.after.commit, f.after.prepare);
  }
  const sql = `SELECT * FROM ${AUDIT_TABLE} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY seq ${f.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ?`;
  const rows = db.prepare(sql).safeIntegers(true).all(...params, f.limit + 1) as AuditRowRecord[];
  const entries = rows.slice(0, f.limit).map(toEntry);
  return { entries, next: rows.length > f.limit ? entries[entries.length - 1]?.position : undefined };
}

function toEntry(row: AuditRowRecord): AuditEntry {
  return {
    position: { commit: row.position_commit, prepare: row.position_prepare },
    eventId: row.event_id,
    stream: row.stream,
    category: row.category,
    revision: row.revision,
    type: row.type,
    time: new Date(Number(row.time)).toISOString(),
    workflowId: row.workflow_id,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    agentId: row.agent_id,
    stepId: row.step_id,
  };
}

/** The entries with their data and metadata, read from the store (a deleted event keeps `data: null`). */
export async function withEventData(store: EventStore, entries: readonly AuditEntry[]): Promise<AuditEntryWithData[]> {
  const result: AuditEntryWithData[] = [];
  for (const entry of entries) {
    let data: Json = null;
    let metadata: JsonObject = {};
    try {
      for await (const event of store.readStream(entry.stream, { fromRevision: entry.revision, maxCount: 1 })) {
        if (event.id === entry.eventId) ({ data, metadata } = { data: jsonView(event.data), metadata: metadataObject(event.metadata) });
      }
    } catch {
      // Deleted or truncated since it was indexed: the index entry stays an audit fact on its own.
    }
    result.push({ ...entry, data, metadata });
  }
  return result;
}
