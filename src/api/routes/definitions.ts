/**
 * The hosted definitions: the list with their hashes, one by `name` or `name@version`, and starting a
 * workflow of one. Only a server with an engine in its process (the worker) hosts definitions;
 * `cadenza serve` answers these routes with a 501 problem that says where to go instead.
 */
import { z } from 'zod';
import { hostedDefinition } from '../../engine/engine.js';
import { hasPath } from '../../workflow/mapping.js';
import { definitionHash } from '../../workflow/hash.js';
import type { WorkflowDefinition } from '../../workflow/definition.js';
import { jsonDepthProblem, type Json } from '../../workflow/json.js';
import { API_PREFIX, type ApiApp, type ApiContext } from '../app.js';
import { NotHostedError, UnprocessableError } from '../problems.js';
import { definitionSummary, problemResponses, startedWorkflow } from './responses.js';
import { workflowId } from './schemas.js';
import { prioritySchema } from '../../saga/events.js';

const definitionRef = z
  .string()
  .regex(/^[^@\s]+(@\d+)?$/, 'expected a definition name, or name@version')
  .describe('a hosted definition: its name (the newest version) or name@version');

const startBody = z.strictObject({
  definition: definitionRef,
  input: z.unknown().default({}).describe("the workflow's input (JSON); checked against the definition's required input paths"),
  workflowId: workflowId.optional().describe('default: a random UUID'),
  correlationId: z.string().min(1).max(200).optional().describe('default: the workflow id'),
  priority: prioritySchema.default(0).describe('-100..100: admission order in the backlog when no slot is free, higher first'),
});

/** The hosting engine's definitions, or the 501 that says there is none. */
function hosted(context: ApiContext, what: string): { definitions: readonly WorkflowDefinition[]; start: NonNullable<NonNullable<ApiContext['runtime']>['startWorkflow']> } {
  const start = context.runtime?.startWorkflow?.bind(context.runtime);
  if (!context.definitions || !start) throw new NotHostedError(`This server hosts no engine, so it ${what}: use the HTTP API of a worker (cadenza worker --http), which hosts its config's definitions`);
  return { definitions: context.definitions, start };
}

const summary = (definition: WorkflowDefinition) => ({
  name: definition.name,
  version: definition.version,
  hash: definitionHash(definition),
  description: definition.description,
  steps: definition.steps.length,
  requiredInput: definition.input.required,
});

export function registerDefinitionRoutes(app: ApiApp, context: ApiContext): void {
  app.get(
    `${API_PREFIX}/definitions`,
    { schema: { tags: ['definitions'], summary: 'The hosted definitions with their hashes', response: { 200: z.object({ definitions: z.array(definitionSummary) }), ...problemResponses } } },
    () => ({ definitions: hosted(context, 'has no definitions to list').definitions.map(summary) }),
  );

  app.get(
    `${API_PREFIX}/definitions/:definition`,
    {
      schema: {
        tags: ['definitions'],
        summary: 'One hosted definition, whole, with its hash',
        params: z.strictObject({ definition: definitionRef }),
        response: { 200: definitionSummary.extend({ definition: z.record(z.string(), z.unknown()).describe('the validated definition, every default filled in: what WorkflowStarted stores') }), ...problemResponses },
      },
    },
    (request) => {
      const definition = hostedDefinition(hosted(context, 'has no definitions').definitions, request.params.definition);
      return { ...summary(definition), definition: definition as unknown as Record<string, unknown> };
    },
  );

  app.post(
    `${API_PREFIX}/workflows`,
    { schema: { tags: ['workflows'], summary: 'Start a workflow of a hosted definition', body: startBody, response: { 201: startedWorkflow, ...problemResponses } } },
    async (request, reply) => {
      const { definitions, start } = hosted(context, 'cannot start workflows');
      const definition = hostedDefinition(definitions, request.body.definition);
      const input = request.body.input as Json;
      const tooDeep = jsonDepthProblem(input);
      if (tooDeep !== undefined) throw new UnprocessableError('body.input', `is ${tooDeep}`);
      const missing = definition.input.required.filter((path) => !hasPath(input, path));
      if (missing.length > 0) throw new UnprocessableError(missing.map((path) => `body.input.${path}`), `is required by ${definition.name}@${definition.version}`);
      const { priority } = request.body;
      const { workflowId, queued } = await start(definition, input, {
        ...(request.body.workflowId === undefined ? {} : { workflowId: request.body.workflowId }),
        ...(request.body.correlationId === undefined ? {} : { correlationId: request.body.correlationId }),
        priority,
      });
      return reply.code(201).send({ workflowId, definition: definition.name, version: definition.version, hash: definitionHash(definition), priority, status: queued === true ? 'queued' : 'running' });
    },
  );
}
