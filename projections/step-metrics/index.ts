/** The step-metrics read model: fold, table, and the per-step and per-agent views with rates and percentiles. */
import type { Database } from 'better-sqlite3';
import { DocProjection } from '../../src/projections/doc-storage.js';
import { type LatencySummary, summarise } from '../shared/histogram.js';
import { WORKFLOW_STREAM_PREFIX, type WorkflowInput } from '../../src/saga/stream/index.js';
import { type AgentMetricsDoc, type Outcomes, stepMetricsFold, type StepMetricsDoc, type StepMetricsReadModel } from './fold.js';

export const STEP_METRICS_TABLE = 'rm_step_metrics';

export function stepMetricsProjection(): DocProjection<WorkflowInput, StepMetricsReadModel> {
  return new DocProjection({
    name: 'step-metrics',
    version: 1,
    filter: { streamNamePrefix: [WORKFLOW_STREAM_PREFIX] },
    table: STEP_METRICS_TABLE,
    fold: stepMetricsFold,
    columns: {
      kind: { type: 'TEXT', of: (_key, doc) => doc.kind, indexed: true },
      definition: { type: 'TEXT', of: (_key, doc) => (doc.kind === 'agent' ? null : doc.definitionName) },
    },
  });
}

export interface OutcomeRates {
  readonly attempts: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: number;
  /** Of finished attempts (succeeded, failed, timed out); undefined before the first. */
  readonly successRate: number | undefined;
  readonly failureRate: number | undefined;
  readonly latencyMs: LatencySummary;
}

export interface StepMetricsView extends OutcomeRates {
  readonly definition: string;
  readonly stepId: string;
  readonly retries: number;
  readonly skipped: number;
  readonly compensations: StepMetricsDoc['compensations'];
}

export interface AgentMetricsView extends OutcomeRates {
  readonly agentId: string;
}

export function outcomeRates(o: Outcomes): OutcomeRates {
  const finished = o.succeeded + o.failed + o.timedOut;
  return {
    attempts: o.attempts,
    succeeded: o.succeeded,
    failed: o.failed,
    timedOut: o.timedOut,
    successRate: finished === 0 ? undefined : o.succeeded / finished,
    failureRate: finished === 0 ? undefined : (o.failed + o.timedOut) / finished,
    latencyMs: summarise(o.latency),
  };
}

export function readStepMetrics(db: Database, definition?: string): StepMetricsView[] {
  const docs = db
    .prepare(`SELECT doc FROM ${STEP_METRICS_TABLE} WHERE kind = 'step' AND (? IS NULL OR definition = ?) ORDER BY key`)
    .pluck()
    .all(definition ?? null, definition ?? null) as string[];
  return docs.map((json) => {
    const doc = JSON.parse(json) as StepMetricsDoc;
    return { definition: doc.definitionName, stepId: doc.stepId, ...outcomeRates(doc), retries: doc.retries, skipped: doc.skipped, compensations: doc.compensations };
  });
}

export function readAgentMetrics(db: Database): AgentMetricsView[] {
  const docs = db.prepare(`SELECT doc FROM ${STEP_METRICS_TABLE} WHERE kind = 'agent' ORDER BY key`).pluck().all() as string[];
  return docs.map((json) => {
    const doc = JSON.parse(json) as AgentMetricsDoc;
    return { agentId: doc.agentId, ...outcomeRates(doc) };
  });
}
