/**
 * The HTTP API server: fastify with zod schemas (validation and the OpenAPI document from the same
 * source), problem+json errors, bearer-token auth, the route groups, SSE and `/metrics`.
 * `startApiServer` is what `cadenza serve --http` runs and what a worker calls to serve beside its
 * engine (pass it as `engine`: commands and starts go through its runtime, its definitions are
 * served, and its live figures join `/metrics`).
 */
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { createSerializerCompiler, jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { openReadModelDb, type ReadModelDb } from '../projections/readmodel-db.js';
import type { EventStore } from '../store/port.js';
import { API_PREFIX, type ApiApp, type ApiContext, type ApiRuntime, type HostedEngine } from './app.js';
import { assertBindAllowed, installBearerAuth } from './auth.js';
import { registerDashboard } from './dashboard.js';
import { jsonReplacer, jsonText } from './json.js';
import { MetricsCheckpoint } from './metrics-checkpoint.js';
import { ApiMetrics } from './metrics.js';
import { installProblemHandlers } from './problems.js';
import { ReadModels } from './read-models.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerDefinitionRoutes } from './routes/definitions.js';
import { registerEventRoutes, type SseOptions } from './routes/events.js';
import { registerOperationRoutes } from './routes/operations.js';
import { projectionLag, registerReadModelRoutes, type ProjectionLagView } from './routes/read-models.js';
import { registerViewRoutes } from './routes/views.js';
import { registerWorkflowRoutes } from './routes/workflows.js';

/** `cadenza_projection_lag_events` counts at most this many events behind (alert thresholds sit well below). */
const METRICS_LAG_CAP = 1000;

export interface ApiServerOptions {
  readonly store: EventStore;
  /**
   * Read-model database path, or an open database the caller owns. Default `:memory:`: folded from
   * the log on first use (pass the store's `defaultReadModelPath` to keep them across restarts).
   */
  readonly readModels?: string | ReadModelDb;
  /**
   * The hosting runtime (a SagaRuntime): operator commands go through it and it adopts the forks the
   * API writes. Without it (`cadenza serve`) commands and forks are appended for the owning worker.
   */
  readonly runtime?: ApiRuntime;
  /**
   * The engine in this process (the worker's): as `runtime` (its runtime), plus its definitions
   * (`/api/v1/definitions`, `POST /api/v1/workflows`) and its live figures in `/metrics`.
   */
  readonly engine?: HostedEngine;
  /** Required for a non-loopback host. */
  readonly token?: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  readonly logger?: FastifyBaseLogger;
  readonly now?: () => number;
  readonly sse?: SseOptions;
}

export interface ApiServer {
  readonly app: ApiApp;
  readonly metrics: ApiMetrics;
  /** `http://host:port` once listening. */
  readonly url: string;
  close(): Promise<void>;
}

/** The server without listening: for `inject` in tests, and the body of `startApiServer`. Throws ApiConfigError for a bind it refuses. */
export async function buildApiServer(options: ApiServerOptions): Promise<{ app: ApiApp; metrics: ApiMetrics }> {
  assertBindAllowed(options.host ?? '127.0.0.1', options.token);
  const given = options.readModels ?? ':memory:';
  const ownsDb = typeof given === 'string';
  const db = typeof given === 'string' ? openReadModelDb(given) : given;
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // SSE streams never go idle: close them with the server instead of waiting for them.
    forceCloseConnections: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(createSerializerCompiler({ replacer: jsonReplacer }));
  // Every answer is written by jsonText, ahead of the response schemas' serializer: the schemas
  // document the routes (OpenAPI) and test/api/openapi.test.ts holds real answers to them.
  app.setReplySerializer((payload) => jsonText(payload));
  installProblemHandlers(app);
  if (options.token !== undefined) installBearerAuth(app, options.token);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'cadenza API', version: '1', description: 'Workflows, operator commands, audit, read models and live events of a cadenza store (docs/api.md).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: options.token === undefined ? [] : [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  const runtime = options.engine?.runtime ?? options.runtime;
  const context: ApiContext = {
    store: options.store,
    readModels: new ReadModels(options.store, db),
    ...(runtime ? { runtime } : {}),
    ...(options.engine ? { definitions: options.engine.definitions } : {}),
    now: options.now ?? Date.now,
  };
  let lastLag: readonly ProjectionLagView[] = [];
  const metrics = new ApiMetrics(options.store, {
    // Counting lag reads the log after each checkpoint: capped lower for scrapes, which come every few
    // seconds, and not counted again while a read model stays capped behind (projectionLag).
    projectionLag: async () => (lastLag = await projectionLag(context, METRICS_LAG_CAP, lastLag)),
    ...(runtime ? { runtime } : {}),
    ...(options.engine?.registry ? { agentCalls: options.engine.registry.stats } : {}),
    // Saved beside the read models: a server that starts again over a big store folds on from there.
    checkpoint: new MetricsCheckpoint(db),
  });

  app.get('/healthz', { schema: { hide: true } }, () => ({ status: 'ok' }));
  app.get(`${API_PREFIX}/openapi.json`, { schema: { hide: true } }, () => app.swagger());
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.scrape()));
  registerWorkflowRoutes(app, context);
  registerOperationRoutes(app, context);
  registerDefinitionRoutes(app, context);
  registerAuditRoutes(app, context);
  registerReadModelRoutes(app, context);
  registerViewRoutes(app, context);
  registerDashboard(app);
  registerEventRoutes(app, context, {
    ...options.sse,
    onClientDropped: () => {
      metrics.sseClientsDropped.inc();
      options.sse?.onClientDropped?.();
    },
  });

  metrics.start();
  app.addHook('onClose', async () => {
    await metrics.stop();
    if (ownsDb) db.close();
  });
  await app.ready();
  return { app, metrics };
}

/** Build and listen. Loopback by default; a non-loopback host without a token is refused (ApiConfigError). */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const { app, metrics } = await buildApiServer({ ...options, host });
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port ?? 0;
  const shownHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return { app, metrics, url: `http://${shownHost}:${port}`, close: () => app.close() };
}
