/**
 * Replay views for operators: a JSON-friendly summary of a folded state, and one line per
 * transition (`cadenza replay`). Loading itself is the workflow stream's (src/saga/stream/load.ts).
 */
import { stepStates, type WorkflowState } from '../saga/state.js';
import type { ReplayStep } from '../saga/stream/load.js';
import type { Json } from '../workflow/json.js';

/** A JSON-friendly summary of a folded state (the state itself holds a graph and persistent vectors). */
export interface StateSummary {
  readonly workflowId: string | undefined;
  readonly status: WorkflowState['status'];
  readonly revision: number;
  readonly definition?: { readonly name: string; readonly version: number; readonly hash: string };
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly steps: readonly {
    readonly id: string;
    readonly status: string;
    readonly attempt: number;
    readonly agentId?: string;
    readonly compensation: string;
    readonly output?: Json;
    readonly lastError?: string;
  }[];
  readonly data?: Json;
  readonly compensation?: { readonly cause: string; readonly reason: string; readonly failedStepId?: string };
  readonly lastError?: { readonly stepId?: string; readonly message: string };
}

export function summariseState(state: WorkflowState): StateSummary {
  if (state.status === 'idle') return { workflowId: state.workflowId, status: 'idle', revision: state.revision, steps: [] };
  return {
    workflowId: state.workflowId,
    status: state.status,
    revision: state.revision,
    definition: { name: state.definition.name, version: state.definition.version, hash: state.definitionHash },
    startedAt: new Date(state.startedAt).toISOString(),
    ...(state.endedAt === undefined ? {} : { endedAt: new Date(state.endedAt).toISOString() }),
    steps: stepStates(state).map((step) => ({
      id: step.id,
      status: step.status,
      attempt: step.attempt,
      ...(step.agentId === undefined ? {} : { agentId: step.agentId }),
      compensation: step.compensation.status,
      ...(step.output === undefined ? {} : { output: step.output }),
      ...(step.lastError === undefined ? {} : { lastError: step.lastError.message }),
    })),
    data: state.data,
    ...(state.compensation === undefined
      ? {}
      : { compensation: { cause: state.compensation.cause, reason: state.compensation.reason, ...(state.compensation.failedStepId === undefined ? {} : { failedStepId: state.compensation.failedStepId }) } }),
    ...(state.lastError === undefined ? {} : { lastError: { ...(state.lastError.stepId === undefined ? {} : { stepId: state.lastError.stepId }), message: state.lastError.error.message } }),
  };
}

/** One line per transition, for `replay --step`. */
export function describeTransition(step: ReplayStep): string {
  const { recorded, event, state } = step;
  const data = event.data as { stepId?: string; attempt?: number; agentId?: string };
  const what = [data.stepId, data.attempt === undefined ? undefined : `#${data.attempt}`, data.agentId === undefined ? undefined : `@${data.agentId}`].filter(Boolean).join(' ');
  const steps = stepStates(state);
  const settled = steps.filter((s) => s.status === 'succeeded' || s.status === 'skipped').length;
  return `${String(recorded.revision).padStart(5)}  ${recorded.created.toISOString()}  ${event.type.padEnd(26)} ${what.padEnd(36)} -> ${state.status} (${settled}/${steps.length})`;
}
