/**
 * Read-only views the dashboard draws and the other routes do not give: a workflow's DAG (from the
 * definition snapshot in its WorkflowStarted) and every attempt and compensation with its agent,
 * times, outcome and error (folded from its history, for the Gantt chart). Both read the workflow
 * stream through its owner (src/saga/stream); nothing here writes.
 */
import { z } from 'zod';
import type { WorkflowEvent } from '../../saga/events.js';
import { definitionsReady, fromRecorded, workflowStream } from '../../saga/stream/index.js';
import { API_PREFIX, type ApiApp, type ApiContext } from '../app.js';
import { NotFoundError } from '../problems.js';
import { problemResponses, workflowCalls, workflowGraph, type callKind, type callOutcome } from './responses.js';
import { workflowIdParams } from './schemas.js';

export interface GraphStep {
  readonly id: string;
  readonly action: string;
  readonly capability: string;
  readonly dependsOn: readonly string[];
  readonly optional: boolean;
  /** The compensation's action; null for a step with none. */
  readonly compensation: string | null;
}

export type CallKind = z.infer<typeof callKind>;
export type CallOutcome = z.infer<typeof callOutcome>;

/** One attempt of a step or of a compensation: a bar of the Gantt chart. */
export interface CallView {
  readonly stepId: string;
  readonly kind: CallKind;
  readonly attempt: number;
  readonly agentId: string | null;
  /** Epoch ms: when the attempt was scheduled (or began to wait for an agent). */
  readonly startedAt: number;
  /** Epoch ms; null while it runs or waits. */
  readonly endedAt: number | null;
  /** As the agent's result reported it (succeeded); else endedAt - startedAt; null while open. */
  readonly durationMs: number | null;
  readonly outcome: CallOutcome;
  readonly error: string | null;
  /** Revision of the event that settled it, or of the last that touched it. */
  readonly revision: number;
}

const callsQuery = z.strictObject({
  revision: z.coerce.number().int().min(0).optional().describe('fold the history up to this revision (inclusive), as the replay slider shows it'),
});

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Folds workflow events into calls, in the order they began. Pure: feed it events, read `calls`. */
export class CallTimeline {
  readonly calls: Mutable<CallView>[] = [];
  private readonly open = new Map<string, Mutable<CallView>>();

  observe(event: WorkflowEvent, revision: number): void {
    const data = event.data as { stepId?: string; attempt?: number; agentId?: string; at: number; durationMs?: number; error?: { message: string; code?: string } };
    if (data.stepId === undefined || data.attempt === undefined) return;
    const kind: CallKind = event.type.startsWith('Compensation') ? 'compensation' : 'step';
    const key = `${kind}:${data.stepId}:${data.attempt}`;
    const begin = (outcome: CallOutcome): void => {
      const existing = this.open.get(key);
      if (existing) {
        // A wait for an agent turns into the attempt itself once an agent is found; a resend keeps its bar.
        existing.outcome = outcome;
        existing.agentId = data.agentId ?? existing.agentId;
        existing.revision = revision;
        return;
      }
      const call: Mutable<CallView> = { stepId: data.stepId!, kind, attempt: data.attempt!, agentId: data.agentId ?? null, startedAt: data.at, endedAt: null, durationMs: null, outcome, error: null, revision };
      this.calls.push(call);
      this.open.set(key, call);
    };
    const settle = (outcome: CallOutcome, error: string | null): void => {
      let call = this.open.get(key);
      // A failure without a scheduled call (no agent had the capability at all): a zero-length bar.
      if (!call) {
        begin(outcome);
        call = this.open.get(key)!;
      }
      call.outcome = outcome;
      call.endedAt = data.at;
      call.durationMs = data.durationMs ?? Math.max(0, data.at - call.startedAt);
      call.error = error;
      call.agentId = data.agentId ?? call.agentId;
      call.revision = revision;
      this.open.delete(key);
    };
    switch (event.type) {
      case 'StepWaitingForAgent':
      case 'CompensationWaitingForAgent':
        return begin('waitingForAgent');
      case 'StepScheduled':
      case 'StepResumed':
      case 'CompensationScheduled':
      case 'CompensationResumed':
        return begin('running');
      case 'StepSucceeded':
      case 'CompensationSucceeded':
        return settle('succeeded', null);
      case 'StepFailed':
      case 'CompensationFailed':
        return settle(data.error?.code === 'TIMEOUT' ? 'timedOut' : 'failed', errorText(data.error));
      case 'StepTimedOut':
        return settle('timedOut', 'timed out');
      default:
        return;
    }
  }
}

const errorText = (error: { message: string; code?: string } | undefined): string | null =>
  error === undefined ? null : error.code === undefined ? error.message : `${error.message} (${error.code})`;

export function registerViewRoutes(app: ApiApp, context: ApiContext): void {
  app.get(
    `${API_PREFIX}/workflows/:workflowId/graph`,
    { schema: { tags: ['views'], summary: "A workflow's DAG: the steps of its definition snapshot with their dependencies", params: workflowIdParams, response: { 200: workflowGraph, ...problemResponses } } },
    async (request) => {
      const { workflowId } = request.params;
      for await (const recorded of context.store.readStream(workflowStream(workflowId), { maxCount: 1n })) {
        await definitionsReady(context.store, recorded);
        const event = fromRecorded(recorded);
        if (event.type !== 'WorkflowStarted') break;
        const { definition, definitionHash } = event.data;
        const steps: GraphStep[] = definition.steps.map((step) => ({
          id: step.id,
          action: step.action,
          capability: step.capability,
          dependsOn: step.dependsOn,
          optional: step.optional,
          compensation: step.compensation?.action ?? null,
        }));
        return { workflowId, definition: { name: definition.name, version: definition.version, hash: definitionHash }, steps };
      }
      throw new NotFoundError(`Workflow "${workflowId}" has no WorkflowStarted`);
    },
  );

  app.get(
    `${API_PREFIX}/workflows/:workflowId/calls`,
    { schema: { tags: ['views'], summary: 'Every attempt and compensation of a workflow with agent, times, outcome and error (the Gantt chart)', params: workflowIdParams, querystring: callsQuery, response: { 200: workflowCalls, ...problemResponses } } },
    async (request) => {
      const { workflowId } = request.params;
      const { revision } = request.query;
      const timeline = new CallTimeline();
      let last = -1;
      let startedAt: number | null = null;
      const read = context.store.readStream(workflowStream(workflowId), revision === undefined ? {} : { maxCount: BigInt(revision) + 1n });
      for await (const recorded of read) {
        await definitionsReady(context.store, recorded);
        const event = fromRecorded(recorded);
        last = Number(recorded.revision);
        timeline.observe(event, last);
        if (event.type === 'WorkflowStarted') startedAt = event.data.at;
      }
      if (last < 0) throw new NotFoundError(`Unknown workflow "${workflowId}"`);
      return { workflowId, revision: last, startedAt, calls: timeline.calls };
    },
  );
}

