/** Callers waiting for a workflow to reach a state (`runtime.waitForEnd`), by workflow id. */
import type { ActiveWorkflowState, WorkflowState } from '../state.js';

interface Waiter {
  readonly until: (state: ActiveWorkflowState) => boolean;
  readonly resolve: (state: ActiveWorkflowState) => void;
}

export class StateWaiters {
  readonly #waiters = new Map<string, Waiter[]>();

  /** Resolves with the first state notified for `workflowId` that satisfies `until`. */
  add(workflowId: string, until: (state: ActiveWorkflowState) => boolean): Promise<ActiveWorkflowState> {
    return new Promise((resolve) => {
      const list = this.#waiters.get(workflowId) ?? [];
      list.push({ until, resolve });
      this.#waiters.set(workflowId, list);
    });
  }

  notify(workflowId: string, state: WorkflowState): void {
    if (state.status === 'idle') return;
    const list = this.#waiters.get(workflowId);
    if (!list) return;
    const remaining = list.filter((waiter) => {
      if (!waiter.until(state)) return true;
      waiter.resolve(state);
      return false;
    });
    if (remaining.length > 0) this.#waiters.set(workflowId, remaining);
    else this.#waiters.delete(workflowId);
  }

  waitsFor(workflowId: string): boolean {
    return this.#waiters.has(workflowId);
  }

  drop(workflowId: string): void {
    this.#waiters.delete(workflowId);
  }
}
