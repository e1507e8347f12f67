/**
 * Operator commands and fork. Through the hosting runtime when there is one (the worker), else
 * decided and appended directly for the owning worker to carry on (src/operations/commands.ts).
 * A command the workflow's state rejects is a 409 and appends nothing. A fork is adopted by the
 * hosting runtime when there is one; under `cadenza serve` it waits for a worker that owns it.
 */
import { z } from 'zod';
import { sendDirect, sendThroughRuntime, type OperatorCommand } from '../../operations/commands.js';
import { forkWorkflow } from '../../operations/fork.js';
import { API_PREFIX, type ApiApp, type ApiContext } from '../app.js';
import { commandAccepted, forked, problemResponses } from './responses.js';
import { workflowId, workflowIdParams } from './schemas.js';

const reasonBody = z.strictObject({ reason: z.string().min(1).max(2000).optional().describe('why; recorded in the event') });
const bodies = {
  retry: z.strictObject({}),
  compensate: reasonBody,
  cancel: reasonBody,
  resolve: z.strictObject({ note: z.string().min(1).max(2000).describe('what the operator did by hand; recorded in WorkflowResolved') }),
} as const;

const summaries = {
  retry: "Resume a paused workflow: its failed steps get a new round of attempts",
  compensate: 'Roll back a running or paused workflow by compensation',
  cancel: 'Cancel a running or paused workflow',
  resolve: 'Mark a failed or compensation-failed workflow resolved by hand',
} as const;

const forkBody = z.strictObject({
  fromRevision: z.number().int().min(0).describe("the source's revision to fork from"),
  workflowId: workflowId.optional().describe('id of the new workflow (default: <source>-fork-<revision>-<random>)'),
});

export function registerOperationRoutes(app: ApiApp, context: ApiContext): void {
  for (const type of ['retry', 'compensate', 'cancel', 'resolve'] as const) {
    app.post(
      `${API_PREFIX}/workflows/:workflowId/${type}`,
      { schema: { tags: ['operations'], summary: summaries[type], params: workflowIdParams, body: bodies[type], response: { 202: commandAccepted, ...problemResponses } } },
      async (request, reply) => {
        const command = { type, ...(request.body ?? {}) } as OperatorCommand;
        const { workflowId } = request.params;
        const events = context.runtime ? await sendThroughRuntime(context.runtime, workflowId, command) : await sendDirect(context.store, workflowId, command);
        return reply.code(202).send({ workflowId, command: type, events: events.map((e) => ({ id: e.id, type: e.type })) });
      },
    );
  }

  app.post(
    `${API_PREFIX}/workflows/:workflowId/fork`,
    { schema: { tags: ['operations'], summary: "Start a new workflow from another's state at a revision", params: workflowIdParams, body: forkBody, response: { 201: forked, ...problemResponses } } },
    async (request, reply) => {
      const plan = await forkWorkflow(context.store, request.params.workflowId, BigInt(request.body.fromRevision), {
        ...(request.body.workflowId === undefined ? {} : { workflowId: request.body.workflowId }),
        now: context.now(),
      });
      await context.runtime?.adopt?.(plan.workflowId);
      return reply.code(201).send({
        workflowId: plan.workflowId,
        sourceWorkflowId: plan.sourceWorkflowId,
        fromRevision: Number(plan.fromRevision),
        correlationId: plan.correlationId,
        reused: plan.reused,
        scheduled: plan.scheduled,
      });
    },
  );
}
