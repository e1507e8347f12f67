/**
 * What users see of a workflow: the stored document plus what is derived from it at read time
 * (progress, counts, running steps, compensation progress, ETA). The ETA depends on "now", so it is
 * computed here, never stored.
 */
import type { DefinitionStatsDoc, StepStatusView, WorkflowStatusDoc } from './fold.js';

export interface WorkflowStatusView {
  readonly workflowId: string;
  readonly definition: { readonly name: string; readonly version: number; readonly hash: string };
  readonly correlationId?: string;
  readonly status: WorkflowStatusDoc['status'];
  /** -100..100: admission order in the backlog, higher first. */
  readonly priority: number;
  readonly revision: number;
  /** 0-100: settled (succeeded or skipped) steps over all steps; 100 once completed. */
  readonly progress: number;
  readonly steps: { readonly total: number; readonly completed: number; readonly failed: number; readonly skipped: number; readonly running: number };
  readonly running: readonly { readonly stepId: string; readonly attempt: number; readonly agentId?: string; readonly since?: string }[];
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly endedAt?: string;
  readonly durationMs?: number;
  readonly eta?: { readonly at: string; readonly remainingMs: number; readonly samples: number };
  readonly lastError?: WorkflowStatusDoc['lastError'];
  readonly compensation?: {
    readonly cause: string;
    readonly reason: string;
    readonly failedStepId?: string;
    readonly total: number;
    readonly compensated: number;
    readonly failed: number;
    readonly running: number;
    /** 0-100. */
    readonly progress: number;
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function workflowStatusView(doc: WorkflowStatusDoc, stats: DefinitionStatsDoc | undefined, now: number): WorkflowStatusView {
  const count = (predicate: (s: StepStatusView) => boolean): number => doc.steps.filter(predicate).length;
  const total = doc.steps.length;
  const completed = count((s) => s.status === 'succeeded');
  const skipped = count((s) => s.status === 'skipped');
  const eta = doc.status === 'running' ? estimateCompletion(doc, stats, now) : undefined;
  return {
    workflowId: doc.workflowId,
    definition: { name: doc.definitionName, version: doc.definitionVersion, hash: doc.definitionHash },
    ...(doc.correlationId === undefined ? {} : { correlationId: doc.correlationId }),
    status: doc.status,
    priority: doc.priority,
    revision: doc.revision,
    progress: doc.status === 'completed' ? 100 : total === 0 ? 0 : Math.floor(((completed + skipped) * 100) / total),
    steps: { total, completed, failed: count((s) => s.status === 'failed'), skipped, running: count((s) => s.status === 'running') },
    running: doc.steps
      .filter((s) => s.status === 'running')
      .map((s) => ({ stepId: s.id, attempt: s.attempt, ...(s.agentId === undefined ? {} : { agentId: s.agentId }), ...(s.scheduledAt === undefined ? {} : { since: iso(s.scheduledAt) }) })),
    startedAt: iso(doc.startedAt),
    updatedAt: iso(doc.updatedAt),
    ...(doc.endedAt === undefined ? {} : { endedAt: iso(doc.endedAt), durationMs: doc.endedAt - doc.startedAt }),
    ...(eta === undefined ? {} : { eta }),
    ...(doc.lastError === undefined ? {} : { lastError: doc.lastError }),
    ...(doc.compensation === undefined ? {} : { compensation: compensationProgress(doc) }),
  };
}

function compensationProgress(doc: WorkflowStatusDoc): NonNullable<WorkflowStatusView['compensation']> {
  const info = doc.compensation!;
  const compensated = doc.steps.filter((s) => s.compensation === 'succeeded').length;
  const failed = doc.steps.filter((s) => s.compensation === 'failed').length;
  const running = doc.steps.filter((s) => s.compensation === 'running' || s.compensation === 'retryWaiting').length;
  return {
    cause: info.cause,
    reason: info.reason,
    ...(info.failedStepId === undefined ? {} : { failedStepId: info.failedStepId }),
    total: info.total,
    compensated,
    failed,
    running,
    progress: info.total === 0 ? 100 : Math.floor(((compensated + failed) * 100) / info.total),
  };
}

/**
 * Expected end of a running workflow: every unfinished step is expected to take the mean duration
 * its step took in earlier runs of the same definition (the mean over all steps when it has no
 * history), starting when its last dependency is expected to end. Undefined without any history.
 */
export function estimateCompletion(doc: WorkflowStatusDoc, stats: DefinitionStatsDoc | undefined, now: number): WorkflowStatusView['eta'] {
  if (!stats) return undefined;
  const all = Object.values(stats.steps).reduce((acc, s) => ({ count: acc.count + s.count, totalMs: acc.totalMs + s.totalMs }), { count: 0, totalMs: 0 });
  if (all.count === 0) return undefined;
  const fallback = all.totalMs / all.count;
  const meanOf = (stepId: string): number => {
    const s = stats.steps[stepId];
    return s && s.count > 0 ? s.totalMs / s.count : fallback;
  };
  const byId = new Map(doc.steps.map((s) => [s.id, s]));
  const finish = new Map<string, number>();
  const finishOf = (s: StepStatusView, depth: number): number => {
    const known = finish.get(s.id);
    if (known !== undefined) return known;
    let at: number;
    if (s.status === 'succeeded' || s.status === 'skipped') at = Math.min(s.endedAt ?? now, now);
    else if (s.status === 'running' && s.startedAt !== undefined) at = Math.max(now, s.startedAt + meanOf(s.id));
    else {
      // Guard against a malformed (cyclic) snapshot: a validated definition never has cycles.
      const deps = depth > doc.steps.length ? [] : s.dependsOn.map((id) => byId.get(id)).filter((d): d is StepStatusView => d !== undefined);
      at = Math.max(now, ...deps.map((d) => finishOf(d, depth + 1))) + meanOf(s.id);
    }
    finish.set(s.id, at);
    return at;
  };
  const end = Math.max(now, ...doc.steps.map((s) => finishOf(s, 0)));
  return { at: iso(Math.round(end)), remainingMs: Math.round(end - now), samples: all.count };
}
