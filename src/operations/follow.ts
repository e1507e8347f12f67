/**
 * Following one workflow through a saga runtime until it ends (or pauses for an operator), with a
 * progress callback: what `fork --follow`, `retry` and `compensate` do after their command.
 */
import type { SagaRuntime } from '../saga/runtime/index.js';
import { stepStates, type ActiveWorkflowState, type WorkflowState } from '../saga/state.js';

export interface FollowProgress {
  /** Settled (succeeded or skipped) steps. */
  readonly done: number;
  readonly total: number;
  readonly status: WorkflowState['status'];
}

export function progressOf(state: WorkflowState): FollowProgress {
  const steps = stepStates(state);
  return { done: steps.filter((s) => s.status === 'succeeded' || s.status === 'skipped').length, total: steps.length, status: state.status };
}

export async function followToEnd(runtime: SagaRuntime, workflowId: string, onProgress: (progress: FollowProgress) => void = () => {}): Promise<ActiveWorkflowState> {
  onProgress(progressOf(await runtime.getState(workflowId)));
  const subscription = runtime.transitions$.subscribe(({ workflowId: id, state }) => {
    if (id === workflowId) onProgress(progressOf(state));
  });
  try {
    return await runtime.waitForEnd(workflowId, { orPaused: true });
  } finally {
    subscription.unsubscribe();
  }
}
