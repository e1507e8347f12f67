/**
 * The monitoring view of one workflow, computed from its folded state: what `cadenza status`
 * prints and what the HTTP layer serves. Pure (no clock: `now` comes in for elapsed times).
 */
import { isTerminal, stepStates, type WorkflowState, type WorkflowStatus } from './state.js';

export interface StepView {
  readonly id: string;
  readonly status: string;
  readonly attempts: number;
  readonly agentId?: string;
  readonly compensation?: string;
  readonly lastError?: string;
}

export interface WorkflowStatusView {
  readonly workflowId: string;
  readonly name: string;
  readonly definitionHash: string;
  readonly status: WorkflowStatus;
  readonly revision: number;
  /** Settled (succeeded or skipped) steps out of all, 0-100. */
  readonly progress: number;
  readonly steps: {
    readonly total: number; readonly succeeded: number; readonly failed: number; readonly skipped: number; readonly running: readonly string[];
    /** Steps (and compensations) waiting for an agent with their capability to become available. */
    readonly waitingForAgent: readonly string[];
  };
  readonly compensation?: { readonly cause: string; readonly reason: string; readonly toCompensate: number; readonly compensated: readonly string[]; readonly failed: readonly string[] };
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly elapsedMs: number;
  readonly lastError?: { readonly stepId?: string; readonly message: string; readonly code?: string };
  readonly stepDetails: readonly StepView[];
}

export function statusView(state: WorkflowState, now: number): WorkflowStatusView | undefined {
  if (state.status === 'idle') return undefined;
  const steps = stepStates(state);
  const count = (status: string) => steps.filter((step) => step.status === status).length;
  const succeeded = count('succeeded');
  const skipped = count('skipped');
  const withCompensation = new Set(state.definition.steps.filter((def) => def.compensation !== undefined).map((def) => def.id));
  const compensated = steps.filter((step) => step.compensation.status === 'succeeded').map((step) => step.id);
  const compensationFailed = steps.filter((step) => step.compensation.status === 'failed').map((step) => step.id);
  const endedAt = state.endedAt;
  return {
    workflowId: state.workflowId,
    name: state.definition.name,
    definitionHash: state.definitionHash,
    status: state.status,
    revision: state.revision,
    progress: Math.round(((succeeded + skipped) / Math.max(1, steps.length)) * 100),
    steps: {
      total: steps.length, succeeded, failed: count('failed'), skipped, running: steps.filter((step) => step.status === 'running').map((step) => step.id),
      waitingForAgent: steps.filter((step) => step.status === 'waitingForAgent' || step.compensation.status === 'waitingForAgent').map((step) => step.id),
    },
    ...(state.compensation
      ? {
          compensation: {
            cause: state.compensation.cause,
            reason: state.compensation.reason,
            toCompensate: steps.filter((step) => step.status === 'succeeded' && withCompensation.has(step.id)).length,
            compensated,
            failed: compensationFailed,
          },
        }
      : {}),
    startedAt: new Date(state.startedAt).toISOString(),
    ...(endedAt === undefined ? {} : { endedAt: new Date(endedAt).toISOString() }),
    elapsedMs: Math.max(0, (isTerminal(state.status) && endedAt !== undefined ? endedAt : now) - state.startedAt),
    ...(state.lastError
      ? { lastError: { ...(state.lastError.stepId === undefined ? {} : { stepId: state.lastError.stepId }), message: state.lastError.error.message, ...(state.lastError.error.code === undefined ? {} : { code: state.lastError.error.code }) } }
      : {}),
    stepDetails: steps.map((step) => ({
      id: step.id,
      status: step.status,
      attempts: step.attempt,
      ...(step.agentId === undefined ? {} : { agentId: step.agentId }),
      ...(step.compensation.status === 'none' ? {} : { compensation: step.compensation.status }),
      ...(step.lastError ? { lastError: step.lastError.message } : {}),
    })),
  };
}
