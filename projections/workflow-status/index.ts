/**
 * The workflow-status read model: its fold, its table, and the queries the CLI (and later the HTTP
 * API) ask of it.
 */
import type { Database } from 'better-sqlite3';
import { DocProjection, readDoc } from '../../src/projections/doc-storage.js';
import { WORKFLOW_STREAM_PREFIX, type WorkflowInput } from '../../src/saga/stream/index.js';
import { definitionKey, type DefinitionStatsDoc, workflowKey, workflowStatusFold, type WorkflowStatusDoc, type WorkflowStatusReadModel } from './fold.js';
import { workflowStatusView, type WorkflowStatusView } from './view.js';

export const WORKFLOW_STATUS_TABLE = 'rm_workflow_status';

export function workflowStatusProjection(): DocProjection<WorkflowInput, WorkflowStatusReadModel> {
  return new DocProjection({
    name: 'workflow-status',
    // 2: the `queued` status and the priority (the backlog).
    version: 2,
    filter: { streamNamePrefix: [WORKFLOW_STREAM_PREFIX] },
    table: WORKFLOW_STATUS_TABLE,
    fold: workflowStatusFold,
    columns: {
      kind: { type: 'TEXT', of: (_key, doc) => doc.kind },
      status: { type: 'TEXT', of: (_key, doc) => (doc.kind === 'workflow' ? doc.status : null), indexed: true },
      definition: { type: 'TEXT', of: (_key, doc) => doc.definitionName, indexed: true },
      started_at: { type: 'INTEGER', of: (_key, doc) => (doc.kind === 'workflow' ? doc.startedAt : null), indexed: true },
      priority: { type: 'INTEGER', of: (_key, doc) => (doc.kind === 'workflow' ? doc.priority : null) },
      updated_at: { type: 'INTEGER', of: (_key, doc) => (doc.kind === 'workflow' ? doc.updatedAt : null) },
      correlation_id: { type: 'TEXT', of: (_key, doc) => (doc.kind === 'workflow' ? (doc.correlationId ?? null) : null), indexed: true },
    },
  });
}

export function readWorkflowStatus(db: Database, workflowId: string, now: number): WorkflowStatusView | undefined {
  const doc = readDoc<WorkflowStatusDoc>(db, WORKFLOW_STATUS_TABLE, workflowKey(workflowId));
  if (doc?.kind !== 'workflow') return undefined;
  return workflowStatusView(doc, readDefinitionStats(db, doc.definitionName), now);
}

export function readDefinitionStats(db: Database, definitionName: string): DefinitionStatsDoc | undefined {
  const doc = readDoc<DefinitionStatsDoc>(db, WORKFLOW_STATUS_TABLE, definitionKey(definitionName));
  return doc?.kind === 'definition' ? doc : undefined;
}

export interface ListWorkflowsQuery {
  readonly statuses?: readonly string[];
  readonly definition?: string;
  readonly correlationId?: string;
  /** Default 100. */
  readonly limit?: number;
}

/** Workflows, newest first. */
export function listWorkflows(db: Database, query: ListWorkflowsQuery, now: number): WorkflowStatusView[] {
  const where = ["kind = 'workflow'"];
  const params: (string | number)[] = [];
  if (query.statuses && query.statuses.length > 0) {
    where.push(`status IN (${query.statuses.map(() => '?').join(', ')})`);
    params.push(...query.statuses);
  }
  if (query.definition !== undefined) {
    where.push('definition = ?');
    params.push(query.definition);
  }
  if (query.correlationId !== undefined) {
    where.push('correlation_id = ?');
    params.push(query.correlationId);
  }
  const docs = (
    db
      .prepare(`SELECT doc FROM ${WORKFLOW_STATUS_TABLE} WHERE ${where.join(' AND ')} ORDER BY started_at DESC, key LIMIT ?`)
      .pluck()
      .all(...params, query.limit ?? 100) as string[]
  ).map((json) => JSON.parse(json) as WorkflowStatusDoc);
  const stats = new Map<string, DefinitionStatsDoc | undefined>();
  return docs.map((doc) => {
    if (!stats.has(doc.definitionName)) stats.set(doc.definitionName, readDefinitionStats(db, doc.definitionName));
    return workflowStatusView(doc, stats.get(doc.definitionName), now);
  });
}

