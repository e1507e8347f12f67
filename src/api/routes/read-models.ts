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

/**
 * Lag as the read models stand, without catching up first: what `/metrics` and the lag route report.
 * `previous` (the last answer): a projection that was at least `cap` behind and whose checkpoint has
 * not moved still is (the log only grows), so its events are not counted again. Without it, a
 * worker whose read models nobody asks for would read `cap` events per projection at every scrape.
 */
export async function projectionLag(context: ApiContext, cap = 10_000, previous: readonly ProjectionLagView[] = []): Promise<ProjectionLagView[]> {
  const checkpoints = new Map(listCheckpoints(context.readModels.db).map((c) => [c.projection, c]));
  const views: ProjectionLagView[] = [];
  for (const name of projectionNames) {
    const checkpoint = checkpoints.get(name);
    const at = checkpoint?.position ? positionText(checkpoint.position) : null;
    const before = previous.find((view) => view.projection === name);
    if (before?.lagCapped && before.lag >= cap && before.checkpoint === at) {
      views.push(before);
      continue;
    }
    const lag = await new ProjectionRunner(context.store, context.readModels.db, createProjection(name)).lag(cap);
    views.push({
      projection: name,
      checkpoint: at,
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
