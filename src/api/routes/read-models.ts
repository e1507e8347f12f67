/** The monitoring read models: step and agent metrics, agent health, and each projection's checkpoint and lag. */
import { z } from 'zod';
import { listCheckpoints } from '../../projections/bookkeeping.js';
import { createProjection, projectionNames } from '../../projections/catalogue.js';
import { ProjectionRunner } from '../../projections/runner.js';
import { readAgentHealth } from '../../../projections/agent-health/index.js';
import { readAgentMetrics, readStepMetrics } from '../../../projections/step-metrics/index.js';
import { API_PREFIX, type ApiApp, type ApiContext } from '../app.js';
import { positionText } from '../json.js';
import { agentHealth, problemResponses, projectionsLag, stepMetrics } from './responses.js';

export interface ProjectionLagView {
  readonly projection: string;
  readonly checkpoint: string | null;
  /** Events of the projection's streams in the log after its checkpoint (at least this many when capped). */
  readonly lag: number;
  readonly lagCapped: boolean;
  readonly updatedAt: string | null;
}

/** Lag as the read models stand, without catching up first: what `/metrics` and the lag route report. */
export async function projectionLag(context: ApiContext, cap = 10_000): Promise<ProjectionLagView[]> {
  const checkpoints = new Map(listCheckpoints(context.readModels.db).map((c) => [c.projection, c]));
  const views: ProjectionLagView[] = [];
  for (const name of projectionNames) {
    const lag = await new ProjectionRunner(context.store, context.readModels.db, createProjection(name)).lag(cap);
    const checkpoint = checkpoints.get(name);
    views.push({
      projection: name,
      checkpoint: checkpoint?.position ? positionText(checkpoint.position) : null,
      lag: lag.events,
      lagCapped: lag.capped,
      updatedAt: checkpoint?.updatedAt ?? null,
    });
  }
  return views;
}

export function registerReadModelRoutes(app: ApiApp, context: ApiContext): void {
  app.get(
    `${API_PREFIX}/read-models/step-metrics`,
    { schema: { tags: ['read models'], summary: 'Attempts, outcomes, latency per definition and step, and per agent', querystring: z.strictObject({ definition: z.string().min(1).optional() }), response: { 200: stepMetrics, ...problemResponses } } },
    (request) =>
      context.readModels.fresh(['step-metrics'], (db) => ({ steps: readStepMetrics(db, request.query.definition), agents: readAgentMetrics(db) })),
  );
  app.get(`${API_PREFIX}/read-models/agent-health`, { schema: { tags: ['read models'], summary: 'Registered agents, their circuit state and health', response: { 200: agentHealth, ...problemResponses } } }, () =>
    context.readModels.fresh(['agent-health'], (db) => ({ agents: readAgentHealth(db) })),
  );
  app.get(`${API_PREFIX}/read-models/projections`, { schema: { tags: ['read models'], summary: "Each projection's checkpoint and lag behind the log", response: { 200: projectionsLag, ...problemResponses } } }, async () => ({
    projections: await projectionLag(context),
  }));
}
