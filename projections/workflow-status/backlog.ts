/**
 * The durable backlog as the store says: queued workflows (WorkflowStarted stored queued, not yet
 * admitted) counted per priority from the workflow-status read model. Every runtime's, and starts
 * appended without one; what `cadenza backlog`, `GET /api/v1/backlog` and `/metrics` show. Not one
 * runtime's memory: RuntimeStats.backlog is only what that runtime owns.
 */
import type { Database } from 'better-sqlite3';
import { WORKFLOW_STATUS_TABLE } from './index.js';

/** Queued workflows of one priority: how many, and since when the oldest waits (its WorkflowStarted, epoch ms). */
export interface BacklogLevel {
  readonly priority: number;
  readonly depth: number;
  readonly oldestStartedAt: number;
}

export interface BacklogView {
  /** Queued workflows, every priority. */
  readonly depth: number;
  readonly oldestStartedAt: string | null;
  readonly oldestAgeMs: number | null;
  /** Highest priority (admitted first) first; priorities with nothing queued are left out. */
  readonly priorities: readonly { readonly priority: number; readonly depth: number; readonly oldestStartedAt: string; readonly oldestAgeMs: number }[];
}

export function readBacklog(db: Database): BacklogLevel[] {
  return db
    .prepare(`SELECT priority, COUNT(*) AS depth, MIN(started_at) AS oldestStartedAt FROM ${WORKFLOW_STATUS_TABLE} WHERE kind = 'workflow' AND status = 'queued' GROUP BY priority ORDER BY priority DESC`)
    .all() as BacklogLevel[];
}

/** The backlog with ages as of `now` (epoch ms). */
export function backlogView(levels: readonly BacklogLevel[], now: number): BacklogView {
  const oldest = levels.length === 0 ? undefined : Math.min(...levels.map((level) => level.oldestStartedAt));
  const age = (startedAt: number) => Math.max(0, now - startedAt);
  return {
    depth: levels.reduce((sum, level) => sum + level.depth, 0),
    oldestStartedAt: oldest === undefined ? null : new Date(oldest).toISOString(),
    oldestAgeMs: oldest === undefined ? null : age(oldest),
    priorities: levels.map((level) => ({ priority: level.priority, depth: level.depth, oldestStartedAt: new Date(level.oldestStartedAt).toISOString(), oldestAgeMs: age(level.oldestStartedAt) })),
  };
}
