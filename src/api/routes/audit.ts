/** Audit queries with the CLI's filters (`cadenza audit`), answered from the audit index, paged by position. */
import { z } from 'zod';
import { queryAudit, withEventData, type AuditEntry, type AuditFilter } from '../../projections/audit-query.js';
import { API_PREFIX, type ApiApp, type ApiContext } from '../app.js';
import { parsePosition, positionText as showPosition } from '../json.js';
import { BadRequestError } from '../problems.js';
import { auditPage, problemResponses } from './responses.js';
import { isoTime, positionText } from './schemas.js';

const auditQuery = z.strictObject({
  workflowId: z.string().min(1).optional(),
  correlationId: z.string().min(1).optional(),
  causationId: z.string().min(1).optional(),
  types: z.string().regex(/^[^,]+(,[^,]+)*$/, 'expected comma-separated event types').optional().describe('any of these event types, comma-separated'),
  agentId: z.string().min(1).optional(),
  stepId: z.string().min(1).optional(),
  stream: z.string().min(1).optional().describe('a stream name (workflow-42), or a category without "-" (workflow, agent)'),
  since: isoTime.optional().describe('recorded at or after'),
  until: isoTime.optional().describe('recorded before'),
  after: positionText.optional().describe('the "next" of the previous page'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
  data: z.enum(['true', 'false']).default('false').describe('include each event\'s data and metadata (read from the store)'),
});

export function registerAuditRoutes(app: ApiApp, context: ApiContext): void {
  app.get(`${API_PREFIX}/audit`, { schema: { tags: ['audit'], summary: 'Query the event log through the audit index', querystring: auditQuery, response: { 200: auditPage, ...problemResponses } } }, async (request) => {
    const q = request.query;
    const since = q.since === undefined ? undefined : new Date(q.since);
    const until = q.until === undefined ? undefined : new Date(q.until);
    if (since && until && since >= until) throw new BadRequestError('querystring.since', 'must be before until');
    const after = q.after === undefined ? undefined : parsePosition(q.after);
    const filter: AuditFilter = {
      ...(q.workflowId === undefined ? {} : { workflowId: q.workflowId }),
      ...(q.correlationId === undefined ? {} : { correlationId: q.correlationId }),
      ...(q.causationId === undefined ? {} : { causationId: q.causationId }),
      ...(q.types === undefined ? {} : { types: q.types.split(',') }),
      ...(q.agentId === undefined ? {} : { agentId: q.agentId }),
      ...(q.stepId === undefined ? {} : { stepId: q.stepId }),
      ...(q.stream === undefined ? {} : { stream: q.stream }),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
      ...(after === undefined ? {} : { after }),
      order: q.order,
      limit: q.limit,
    };
    const page = await context.readModels.fresh(['audit-index'], (db) => queryAudit(db, filter));
    const entries: readonly AuditEntry[] = q.data === 'true' ? await withEventData(context.store, page.entries) : page.entries;
    return { events: entries.map((e) => ({ ...e, position: showPosition(e.position) })), next: page.next ? showPosition(page.next) : null };
  });
}
