/**
 * The workflows list of the API: the workflow-status read model with the filters, sort and paging an
 * HTTP client needs (time range, offset paging, a total). The CLI's `listWorkflows` answers the
 * newest N only; this is the same table and the same view, asked more.
 */
import type { Database } from 'better-sqlite3';
import { readDefinitionStats, WORKFLOW_STATUS_TABLE } from '../../projections/workflow-status/index.js';
import type { DefinitionStatsDoc, WorkflowStatusDoc } from '../../projections/workflow-status/fold.js';
import { workflowStatusView, type WorkflowStatusView } from '../../projections/workflow-status/view.js';

export interface WorkflowListQuery {
  readonly statuses?: readonly string[];
  readonly definition?: string;
  readonly correlationId?: string;
  /** Started at or after (epoch ms). */
  readonly startedFrom?: number;
  /** Started before (epoch ms). */
  readonly startedTo?: number;
  readonly sort: 'startedAt' | 'updatedAt';
  readonly order: 'asc' | 'desc';
  readonly offset: number;
  readonly limit: number;
}

export interface WorkflowListPage {
  readonly workflows: readonly WorkflowStatusView[];
  readonly total: number;
  readonly offset: number;
  /** Offset of the next page; null on the last. */
  readonly nextOffset: number | null;
}

const sortColumns = { startedAt: 'started_at', updatedAt: 'updated_at' } as const;

export function queryWorkflowList(db: Database, query: WorkflowListQuery, now: number): WorkflowListPage {
  const where = ["kind = 'workflow'"];
  const params: (string | number)[] = [];
  if (query.statuses && query.statuses.length > 0) {
    where.push(`status IN (${query.statuses.map(() => '?').join(', ')})`);
    params.push(...query.statuses);
  }
  const equal = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  equal('definition', query.definition);
  equal('correlation_id', query.correlationId);
  if (query.startedFrom !== undefined) {
    where.push('started_at >= ?');
    params.push(query.startedFrom);
  }
  if (query.startedTo !== undefined) {
    where.push('started_at < ?');
    params.push(query.startedTo);
  }
  const whereSql = where.join(' AND ');
  const total = db.prepare(`SELECT COUNT(*) FROM ${WORKFLOW_STATUS_TABLE} WHERE ${whereSql}`).pluck().get(...params) as number;
  const direction = query.order === 'asc' ? 'ASC' : 'DESC';
  const docs = (
    db
      .prepare(`SELECT doc FROM ${WORKFLOW_STATUS_TABLE} WHERE ${whereSql} ORDER BY ${sortColumns[query.sort]} ${direction}, key ${direction} LIMIT ? OFFSET ?`)
      .pluck()
      .all(...params, query.limit, query.offset) as string[]
  ).map((json) => JSON.parse(json) as WorkflowStatusDoc);
  const stats = new Map<string, DefinitionStatsDoc | undefined>();
  const workflows = docs.map((doc) => {
    if (!stats.has(doc.definitionName)) stats.set(doc.definitionName, readDefinitionStats(db, doc.definitionName));
    return workflowStatusView(doc, stats.get(doc.definitionName), now);
  });
  const end = query.offset + workflows.length;
  return { workflows, total, offset: query.offset, nextOffset: end < total ? end : null };
}
