/**
 * Workflow status: the monitoring view of every workflow, one document per workflow plus one per
 * definition holding the historical step durations the ETA is estimated from. A pure fold over the
 * workflow events; its step and workflow statuses follow the core's `evolve` (tests compare them).
 */
import type { CompensationCause, StepError } from '../../src/saga/events.js';
import type { CompensationStatus, StepStatus, WorkflowStatus } from '../../src/saga/state.js';
import type { DocFold, DocView } from '../../src/projections/doc-fold.js';
import { decodeWorkflowEvent, definitionsReady, type WorkflowInput } from '../../src/saga/stream/index.js';

export interface StepStatusView {
  readonly id: string;
  readonly dependsOn: readonly string[];
  readonly status: StepStatus;
  readonly attempt: number;
  readonly agentId?: string;
  /** First attempt of the step (epoch ms): durations count from here, retries included. */
  readonly startedAt?: number;
  /** Current attempt. */
  readonly scheduledAt?: number;
  readonly endedAt?: number;
  readonly hasCompensation: boolean;
  readonly compensation: CompensationStatus;
}

export interface WorkflowStatusDoc {
  readonly kind: 'workflow';
  readonly workflowId: string;
  readonly definitionName: string;
  readonly definitionVersion: number;
  readonly definitionHash: string;
  readonly correlationId?: string;
  readonly status: Exclude<WorkflowStatus, 'idle'>;
  /** -100..100, higher first in the backlog (WorkflowStarted's; 0 when it gave none). */
  readonly priority: number;
  /** Revision of the last event folded in. */
  readonly revision: number;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly endedAt?: number;
  readonly steps: readonly StepStatusView[];
  readonly lastError?: { readonly stepId?: string; readonly message: string; readonly code?: string };
  readonly compensation?: {
    readonly cause: CompensationCause;
    readonly reason: string;
    readonly failedStepId?: string;
    readonly startedAt: number;
    /** Steps to compensate when compensation started. */
    readonly total: number;
  };
}

export interface DurationStats {
  readonly count: number;
  readonly totalMs: number;
}

/** What finished runs of one definition (by name) took: the basis of ETAs. */
export interface DefinitionStatsDoc {
  readonly kind: 'definition';
  readonly definitionName: string;
  readonly steps: Readonly<Record<string, DurationStats>>;
  readonly workflows: DurationStats;
}

export type WorkflowStatusReadModel = WorkflowStatusDoc | DefinitionStatsDoc;

export const workflowKey = (workflowId: string): string => `workflow:${workflowId}`;
export const definitionKey = (name: string): string => `definition:${name}`;

export const workflowStatusFold: DocFold<WorkflowInput, WorkflowStatusReadModel> = {
  decode: decodeWorkflowEvent,
  prepare: definitionsReady,
  apply(view, input) {
    const { event } = input;
    if (event.type === 'WorkflowStarted') {
      const { workflowId, definition, definitionHash, at, priority, queued } = event.data;
      if (view.get(workflowKey(workflowId))) return;
      view.put(workflowKey(workflowId), {
        kind: 'workflow', workflowId, definitionName: definition.name, definitionVersion: definition.version, definitionHash,
        ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
        status: queued === true ? 'queued' : 'running', priority: priority ?? 0, revision: input.revision, startedAt: at, updatedAt: at,
        steps: definition.steps.map((step) => ({
          id: step.id, dependsOn: step.dependsOn, status: 'pending', attempt: 0, hasCompensation: step.compensation !== undefined, compensation: 'none',
        })),
      });
      return;
    }
    const key = workflowKey(event.data.workflowId);
    const doc = view.get(key);
    if (doc?.kind !== 'workflow') return;
    const next = evolveStatus({ ...doc, revision: input.revision, updatedAt: event.data.at }, input, view);
    view.put(key, next);
  },
};

function evolveStatus(doc: WorkflowStatusDoc, { event }: WorkflowInput, view: DocView<WorkflowStatusReadModel>): WorkflowStatusDoc {
  switch (event.type) {
    case 'StepScheduled': {
      const { stepId, attempt, agentId, at } = event.data;
      return step(doc, stepId, (s) => ({ ...s, status: 'running', attempt, agentId, scheduledAt: at, startedAt: s.startedAt ?? at }));
    }
    case 'StepResumed':
      return step(doc, event.data.stepId, (s) => ({ ...s, agentId: event.data.agentId }));
    case 'StepWaitingForAgent':
      return step(doc, event.data.stepId, (s) => ({ ...s, status: 'waitingForAgent' }));
    case 'CompensationWaitingForAgent':
      return step(doc, event.data.stepId, (s) => ({ ...s, compensation: 'waitingForAgent' }));
    case 'CompensationResumed':
      return doc;
    case 'StepSucceeded': {
      const { stepId, at } = event.data;
      const before = doc.steps.find((s) => s.id === stepId);
      if (before?.startedAt !== undefined && before.status !== 'succeeded') recordStepDuration(view, doc.definitionName, stepId, at - before.startedAt);
      return step(doc, stepId, (s) => ({ ...s, status: 'succeeded', endedAt: at }));
    }
    case 'StepFailed': {
      const { stepId, attempt, error } = event.data;
      return { ...step(doc, stepId, (s) => ({ ...s, status: 'failed', attempt: Math.max(s.attempt, attempt) })), lastError: errorOf(stepId, error) };
    }
    case 'StepTimedOut':
      return { ...step(doc, event.data.stepId, (s) => ({ ...s, status: 'failed' })), lastError: { stepId: event.data.stepId, message: 'Attempt timed out', code: 'TIMEOUT' } };
    case 'StepRetryScheduled':
      return step(doc, event.data.stepId, (s) => ({ ...s, status: 'retryWaiting' }));
    case 'StepSkipped':
      return step(doc, event.data.stepId, (s) => ({ ...s, status: 'skipped', endedAt: event.data.at }));
    case 'WorkflowAdmitted':
      return doc.status === 'queued' ? { ...doc, status: 'running' } : doc;
    case 'WorkflowPaused':
      return { ...doc, status: 'paused' };
    case 'WorkflowResumed':
      return {
        ...doc,
        status: 'running',
        steps: doc.steps.map((s) => (s.status === 'failed' || s.status === 'retryWaiting' || s.status === 'waitingForAgent' ? { ...s, status: 'pending' } : s)),
      };
    case 'CompensationStarted': {
      const { cause, reason, failedStepId, at, toCompensate } = event.data;
      return {
        ...doc,
        status: 'compensating',
        steps: doc.steps.map((s) => (s.status === 'retryWaiting' || s.status === 'waitingForAgent' ? { ...s, status: 'abandoned' } : s)),
        compensation: { cause, reason, ...(failedStepId === undefined ? {} : { failedStepId }), startedAt: at, total: toCompensate.length },
      };
    }
    case 'CompensationScheduled':
      return step(doc, event.data.stepId, (s) => ({ ...s, compensation: 'running' }));
    case 'CompensationSucceeded':
      return step(doc, event.data.stepId, (s) => ({ ...s, compensation: 'succeeded' }));
    case 'CompensationFailed':
      return { ...step(doc, event.data.stepId, (s) => ({ ...s, compensation: 'failed' })), lastError: errorOf(event.data.stepId, event.data.error) };
    case 'CompensationRetryScheduled':
      return step(doc, event.data.stepId, (s) => ({ ...s, compensation: 'retryWaiting' }));
    case 'WorkflowCompleted':
      recordWorkflowDuration(view, doc.definitionName, event.data.at - doc.startedAt);
      return { ...doc, status: 'completed', endedAt: event.data.at };
    case 'WorkflowFailed': {
      const { reason, failedStepId, error, at } = event.data;
      return { ...doc, status: 'failed', endedAt: at, lastError: errorOf(failedStepId, error ?? { message: reason, retryable: false }) };
    }
    case 'WorkflowCompensated':
      return { ...doc, status: 'compensated', endedAt: event.data.at };
    case 'WorkflowCompensationFailed':
      return { ...doc, status: 'compensationFailed', endedAt: event.data.at };
    case 'WorkflowCancelled':
      return { ...doc, status: 'cancelled', endedAt: event.data.at };
    case 'CompensationRetried': {
      const { endedAt: _ended, ...rest } = doc;
      return { ...rest, status: 'compensating', steps: doc.steps.map((s) => (s.compensation === 'failed' ? { ...s, compensation: 'none' } : s)) };
    }
    case 'WorkflowResolved':
      return { ...doc, status: 'resolved', endedAt: event.data.at };
    case 'WorkflowStarted':
    case 'StepTaskAccepted': // which remote task runs an attempt is the runtime's business, not the status view's
      return doc;
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

function step(doc: WorkflowStatusDoc, stepId: string, change: (s: StepStatusView) => StepStatusView): WorkflowStatusDoc {
  const index = doc.steps.findIndex((s) => s.id === stepId);
  if (index === -1) return doc;
  const steps = doc.steps.slice();
  steps[index] = change(steps[index] as StepStatusView);
  return { ...doc, steps };
}

function errorOf(stepId: string | undefined, error: StepError): NonNullable<WorkflowStatusDoc['lastError']> {
  return { ...(stepId === undefined ? {} : { stepId }), message: error.message, ...(error.code === undefined ? {} : { code: error.code }) };
}

function statsOf(view: DocView<WorkflowStatusReadModel>, name: string): DefinitionStatsDoc {
  const doc = view.get(definitionKey(name));
  return doc?.kind === 'definition' ? doc : { kind: 'definition', definitionName: name, steps: {}, workflows: { count: 0, totalMs: 0 } };
}

const add = (stats: DurationStats | undefined, ms: number): DurationStats => ({ count: (stats?.count ?? 0) + 1, totalMs: (stats?.totalMs ?? 0) + Math.max(0, ms) });

function recordStepDuration(view: DocView<WorkflowStatusReadModel>, name: string, stepId: string, ms: number): void {
  const stats = statsOf(view, name);
  view.put(definitionKey(name), { ...stats, steps: { ...stats.steps, [stepId]: add(stats.steps[stepId], ms) } });
}

function recordWorkflowDuration(view: DocView<WorkflowStatusReadModel>, name: string, ms: number): void {
  const stats = statsOf(view, name);
  view.put(definitionKey(name), { ...stats, workflows: add(stats.workflows, ms) });
}
