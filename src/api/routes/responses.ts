/**
 * Response schemas: what each route answers, for the OpenAPI document. They name the fields a client
 * reads and let the rest through (loose objects), since the read models and views they describe
 * have owners of their own. Answers are written by the server's own JSON serializer (server.ts), not
 * checked against these at each request: test/api/openapi.test.ts checks every route's real answer
 * against the document generated from them.
 */
import { z } from 'zod';

/**
 * A response schema as the handlers see it: unknown. The views they return are interfaces, which
 * TypeScript will not match against a loose object's index signature; the schema itself still
 * documents the route.
 */
const documented = (schema: z.ZodType): z.ZodType<unknown> => schema;

const problem = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().describe('one line: what is wrong'),
    instance: z.string().describe('the path asked for'),
    invalidFields: z.array(z.object({ field: z.string().describe('e.g. body.note, querystring.limit'), message: z.string() })).optional(),
  })
  .describe('application/problem+json (RFC 9457)');

/** The problems any route may answer (the token, validation, unknown ids, rejected commands, hosting). */
export const problemResponses = { '4XX': problem, '5XX': problem } as const;

const statusView = z
  .looseObject({
    workflowId: z.string(),
    name: z.string().describe('the definition name'),
    definitionHash: z.string(),
    status: z.string(),
    revision: z.number().int(),
    progress: z.number(),
    steps: z.looseObject({ total: z.number().int(), succeeded: z.number().int(), failed: z.number().int(), running: z.array(z.string()) }),
    startedAt: z.string(),
    endedAt: z.string().optional(),
    elapsedMs: z.number(),
    stepDetails: z.array(z.looseObject({ id: z.string(), status: z.string(), attempts: z.number().int() })),
  })
  .describe("a workflow's status view (what `cadenza status` prints)");

export const statusViewSchema = documented(statusView);

/** A row of the workflows list: the workflow-status read model's view (projections/workflow-status/view.ts), not the replayed status view. */
const listedWorkflow = z
  .looseObject({
    workflowId: z.string(),
    definition: z.object({ name: z.string(), version: z.number().int(), hash: z.string() }),
    correlationId: z.string().optional(),
    status: z.string(),
    revision: z.number().int(),
    progress: z.number().describe('0-100: settled steps over all steps'),
    steps: z.looseObject({ total: z.number().int(), completed: z.number().int(), failed: z.number().int(), skipped: z.number().int(), running: z.number().int() }),
    running: z.array(z.looseObject({ stepId: z.string(), attempt: z.number().int(), agentId: z.string().optional(), since: z.string().optional() })),
    startedAt: z.string(),
    updatedAt: z.string(),
    endedAt: z.string().optional(),
    durationMs: z.number().optional(),
    eta: z.looseObject({ at: z.string(), remainingMs: z.number(), samples: z.number().int() }).optional().describe('while running, from the durations of earlier runs'),
    lastError: z.looseObject({ stepId: z.string().optional(), message: z.string(), code: z.string().optional() }).optional(),
    compensation: z.looseObject({ cause: z.string(), reason: z.string(), total: z.number().int(), compensated: z.number().int(), failed: z.number().int(), running: z.number().int(), progress: z.number() }).optional(),
  })
  .describe('a workflow as the workflow-status read model holds it');

export const workflowList = documented(z.object({ workflows: z.array(listedWorkflow), total: z.number().int(), offset: z.number().int(), nextOffset: z.number().int().nullable() }));

const storedEvent = z.looseObject({ revision: z.number().int(), position: z.string(), type: z.string(), created: z.string(), id: z.string(), data: z.unknown(), metadata: z.unknown() });
export const workflowHistory = documented(z.object({ workflowId: z.string(), events: z.array(storedEvent), nextRevision: z.number().int().nullable().describe('the next page\'s fromRevision; null on the last page') }));

export const workflowStateAt = documented(z.looseObject({
  workflowId: z.string(),
  events: z.number().int().describe('events folded'),
  lastEvent: z.object({ revision: z.number().int(), type: z.string(), created: z.string() }).nullable(),
  state: z.record(z.string(), z.unknown()).describe('the replayed state, summarised'),
  status: statusView.nullable(),
}));

export const commandAccepted = documented(z.object({ workflowId: z.string(), command: z.string(), events: z.array(z.object({ id: z.string(), type: z.string() })).describe('the events appended') }));

export const forked = documented(z.object({
  workflowId: z.string(),
  sourceWorkflowId: z.string(),
  fromRevision: z.number().int(),
  correlationId: z.string(),
  reused: z.array(z.string()).readonly().describe('steps whose outputs were carried over'),
  scheduled: z.array(z.string()).readonly().describe('steps scheduled again now'),
}));

export const auditPage = documented(z.object({
  events: z.array(z.looseObject({ position: z.string(), stream: z.string(), type: z.string(), time: z.string(), eventId: z.string() })),
  next: z.string().nullable().describe('pass as `after` for the next page; null on the last'),
}));

const outcomeRates = {
  attempts: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  timedOut: z.number().int(),
  successRate: z.number().optional(),
  failureRate: z.number().optional(),
  latencyMs: z.looseObject({}).describe('p50, p95, p99, mean of successful attempts'),
};
export const stepMetrics = documented(z.object({
  steps: z.array(z.looseObject({ definition: z.string(), stepId: z.string(), retries: z.number().int(), skipped: z.number().int(), ...outcomeRates })),
  agents: z.array(z.looseObject({ agentId: z.string(), ...outcomeRates })),
}));
export const agentHealth = documented(z.object({
  agents: z.array(z.looseObject({ agentId: z.string(), registered: z.boolean(), capabilities: z.array(z.string()).readonly(), circuit: z.string(), inFlight: z.number().int(), successRate: z.number().optional() })),
}));
export const projectionsLag = documented(z.object({
  projections: z.array(z.object({ projection: z.string(), checkpoint: z.string().nullable(), lag: z.number().int().describe('events after the checkpoint'), lagCapped: z.boolean(), updatedAt: z.string().nullable() })),
}));

export const definitionSummary = z.object({
  name: z.string(),
  version: z.number().int(),
  hash: z.string().describe('sha256:<hex> of the canonical JSON: what WorkflowStarted records'),
  description: z.string(),
  steps: z.number().int(),
  requiredInput: z.array(z.string()).describe('dotted paths the start input must hold'),
});

export const startedWorkflow = documented(
  z.object({
    workflowId: z.string(),
    definition: z.string(),
    version: z.number().int(),
    hash: z.string(),
    priority: z.number().int(),
    status: z.enum(['running', 'queued']).describe('running: admitted at once; queued: stored in the backlog, admitted by priority then age as slots free'),
  }),
);

const backlogLevel = z.object({ priority: z.number().int(), depth: z.number().int(), oldestStartedAt: z.string(), oldestAgeMs: z.number().int() });
export const backlog = documented(
  z
    .object({
      depth: z.number().int().describe('queued workflows, every priority'),
      oldestStartedAt: z.string().nullable(),
      oldestAgeMs: z.number().int().nullable(),
      priorities: z.array(backlogLevel).describe('highest priority (admitted first) first; empty priorities left out'),
    })
    .describe('the durable backlog: workflows stored queued and not yet admitted, from the workflow-status read model'),
);

export const workflowGraph = documented(z.object({
  workflowId: z.string(),
  definition: z.object({ name: z.string(), version: z.number().int(), hash: z.string().describe('sha256:<hex>, as WorkflowStarted records it') }),
  steps: z.array(z.object({
    id: z.string(),
    action: z.string(),
    capability: z.string(),
    dependsOn: z.array(z.string()).readonly(),
    optional: z.boolean(),
    compensation: z.string().nullable().describe("the compensation's action; null for a step with none"),
  })),
}).describe("a workflow's DAG, from the definition snapshot its WorkflowStarted names"));

/** What a call of the Gantt chart came to (routes/views.ts folds them). */
export const callOutcome = z.enum(['waitingForAgent', 'running', 'succeeded', 'failed', 'timedOut']);
export const callKind = z.enum(['step', 'compensation']);

export const workflowCalls = documented(z.object({
  workflowId: z.string(),
  revision: z.number().int().describe('the last revision folded'),
  startedAt: z.number().nullable().describe('epoch ms of WorkflowStarted; null if it was not folded'),
  calls: z.array(z.object({
    stepId: z.string(),
    kind: callKind,
    attempt: z.number().int(),
    agentId: z.string().nullable(),
    startedAt: z.number().describe('epoch ms: scheduled, or began to wait for an agent'),
    endedAt: z.number().nullable().describe('epoch ms; null while it runs or waits'),
    durationMs: z.number().nullable().describe("the agent's reported duration for a success, else endedAt - startedAt; null while open"),
    outcome: callOutcome,
    error: z.string().nullable(),
    revision: z.number().int().describe('the event that settled it, or the last that touched it'),
  })).describe('every attempt and compensation attempt, in the order they began'),
}));
