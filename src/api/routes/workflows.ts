/** Reading workflows: the list and the backlog (workflow-status read model), one workflow's status, its history, and its state at a revision or time. */
import { z } from 'zod';
import { statusView } from '../../saga/status-view.js';
import { replayWorkflow, workflowStream, type ReplayUntil } from '../../saga/stream/index.js';
import { summariseState } from '../../operations/replay.js';
import { API_PREFIX, type ApiApp, type ApiContext } from '../app.js';
import { positionText } from '../json.js';
import { BadRequestError, NotFoundError } from '../problems.js';
import { queryWorkflowList } from '../workflow-list.js';
import { backlogView, readBacklog } from '../../../projections/workflow-status/backlog.js';
import { backlog, problemResponses, workflowHistory, workflowList, workflowStateAt, statusViewSchema } from './responses.js';
import { commaList, isoTime, splitList, workflowIdParams } from './schemas.js';

export const workflowStatuses = ['queued', 'running', 'paused', 'compensating', 'completed', 'failed', 'compensated', 'compensationFailed', 'cancelled', 'resolved'] as const;

const listQuery = z.strictObject({
  status: commaList(workflowStatuses).optional().describe('only these statuses, comma-separated'),
  definition: z.string().min(1).optional().describe('only workflows of this definition name'),
  correlationId: z.string().min(1).optional(),
  startedFrom: isoTime.optional().describe('started at or after'),
  startedTo: isoTime.optional().describe('started before'),
  sort: z.enum(['startedAt', 'updatedAt']).default('startedAt'),
  order: z.enum(['asc', 'desc']).default('desc'),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

const historyQuery = z.strictObject({
  fromRevision: z.coerce.number().int().min(0).default(0).describe('first revision (inclusive)'),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

const stateQuery = z.strictObject({
  revision: z.coerce.number().int().min(0).optional().describe('state after this revision (inclusive)'),
  at: isoTime.optional().describe('state after the last event recorded at or before this time'),
});

export function registerWorkflowRoutes(app: ApiApp, context: ApiContext): void {
  app.get(`${API_PREFIX}/workflows`, { schema: { tags: ['workflows'], summary: 'List workflows', querystring: listQuery, response: { 200: workflowList, ...problemResponses } } }, async (request) => {
    const q = request.query;
    const startedFrom = q.startedFrom === undefined ? undefined : Date.parse(q.startedFrom);
    const startedTo = q.startedTo === undefined ? undefined : Date.parse(q.startedTo);
    if (startedFrom !== undefined && startedTo !== undefined && startedFrom >= startedTo) throw new BadRequestError('querystring.startedFrom', 'must be before startedTo');
    const statuses = splitList(q.status);
    return context.readModels.fresh(['workflow-status'], (db) =>
      queryWorkflowList(
        db,
        {
          ...(statuses ? { statuses } : {}),
          ...(q.definition === undefined ? {} : { definition: q.definition }),
          ...(q.correlationId === undefined ? {} : { correlationId: q.correlationId }),
          ...(startedFrom === undefined ? {} : { startedFrom }),
          ...(startedTo === undefined ? {} : { startedTo }),
          sort: q.sort,
          order: q.order,
          offset: q.offset,
          limit: q.limit,
        },
        context.now(),
      ),
    );
  });

  app.get(
    `${API_PREFIX}/backlog`,
    { schema: { tags: ['workflows'], summary: 'The durable backlog: queued workflows, depth and oldest age per priority', response: { 200: backlog, ...problemResponses } } },
    () => context.readModels.fresh(['workflow-status'], (db) => backlogView(readBacklog(db), context.now())),
  );

  app.get(`${API_PREFIX}/workflows/:workflowId`, { schema: { tags: ['workflows'], summary: "A workflow's status view", params: workflowIdParams, response: { 200: statusViewSchema, ...problemResponses } } }, async (request) => {
    const { state } = await replayWorkflow(context.store, request.params.workflowId);
    const view = statusView(state, context.now());
    if (!view) throw new NotFoundError(`Unknown workflow "${request.params.workflowId}"`);
    return view;
  });

  app.get(
    `${API_PREFIX}/workflows/:workflowId/history`,
    { schema: { tags: ['workflows'], summary: "A workflow's events, in order", params: workflowIdParams, querystring: historyQuery, response: { 200: workflowHistory, ...problemResponses } } },
    async (request) => {
      const { fromRevision, limit } = request.query;
      const events = [];
      for await (const e of context.store.readStream(workflowStream(request.params.workflowId), { fromRevision: BigInt(fromRevision), maxCount: limit + 1 })) {
        if (events.length === limit) return { workflowId: request.params.workflowId, events, nextRevision: Number(e.revision) };
        events.push({ revision: Number(e.revision), position: positionText(e.position), type: e.type, created: e.created.toISOString(), id: e.id, data: e.data, metadata: e.metadata });
      }
      return { workflowId: request.params.workflowId, events, nextRevision: null };
    },
  );

  app.get(
    `${API_PREFIX}/workflows/:workflowId/state`,
    { schema: { tags: ['workflows'], summary: "A workflow's state at a revision or time (replayed from its history)", params: workflowIdParams, querystring: stateQuery, response: { 200: workflowStateAt, ...problemResponses } } },
    async (request) => {
      const { revision, at } = request.query;
      if (revision !== undefined && at !== undefined) throw new BadRequestError('querystring.at', 'give either revision or at, not both');
      const until: ReplayUntil | undefined = revision !== undefined ? { revision: BigInt(revision) } : at !== undefined ? { time: new Date(at) } : undefined;
      const { state, events, last } = await replayWorkflow(context.store, request.params.workflowId, until);
      if (events === 0) throw new NotFoundError(`Workflow "${request.params.workflowId}" has no events ${at === undefined ? '' : `at or before ${at}`}`.trim());
      return {
        workflowId: request.params.workflowId,
        events,
        lastEvent: last ? { revision: Number(last.revision), type: last.type, created: last.created.toISOString() } : null,
        state: summariseState(state),
        status: statusView(state, last ? last.created.getTime() : context.now()) ?? null,
      };
    },
  );
}
