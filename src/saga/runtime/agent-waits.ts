/**
 * Which workflows wait for an agent with which capability, and when to wake them: when an agent
 * with the capability registers or changes (the registry's changes), and when an open circuit may
 * take a probe again (reopening is a matter of time, not an event, so a timer per capability). The
 * runtime decides the `wake` trigger; this only says who and when.
 */
import type { Subscription } from 'rxjs';
import type { AgentRegistry } from '../../agents/index.js';
import type { WorkflowEvent } from '../events.js';
import { stepStates, type WorkflowState } from '../state.js';

export class AgentWaits {
  /** Workflow ids by the capability they wait for. Listed until they end (see `wake`). */
  readonly #waiting = new Map<string, Set<string>>();
  /** One wake per capability whose agents' circuits are open, at the earliest reopening. */
  readonly #reopenTimers = new Map<string, NodeJS.Timeout>();
  readonly #changes: Subscription;
  #stopped = false;

  constructor(
    private readonly registry: AgentRegistry,
    private readonly now: () => number,
    /** Wakes the workflows waiting for a capability that may now have an agent. */
    private readonly wake: (workflowIds: ReadonlySet<string>) => void,
  ) {
    this.#changes = registry.changes$.subscribe((record) => {
      for (const capability of record.capabilities) this.#wake(capability);
    });
  }

  /** Remembers a wait the event records; true when `event` is such a wait. */
  note(workflowId: string, event: WorkflowEvent): boolean {
    if (event.type !== 'StepWaitingForAgent' && event.type !== 'CompensationWaitingForAgent') return false;
    this.#add(workflowId, event.data.capability);
    return true;
  }

  /** Lists a workflow under every capability its state waits for (start-up, a state read from the store). */
  noteState(workflowId: string, state: WorkflowState): void {
    if (state.status === 'idle') return;
    stepStates(state).forEach((step, index) => {
      const def = state.definition.steps[index];
      if (!def) return;
      if (step.status === 'waitingForAgent') this.#add(workflowId, def.capability);
      if (step.compensation.status === 'waitingForAgent' && def.compensation) this.#add(workflowId, def.compensation.capability ?? def.capability);
    });
  }

  /** The workflow ended: it waits for nothing any more. */
  forget(workflowId: string): void {
    for (const waiting of this.#waiting.values()) waiting.delete(workflowId);
  }

  stop(): void {
    this.#stopped = true;
    this.#changes.unsubscribe();
    for (const timer of this.#reopenTimers.values()) clearTimeout(timer);
  }

  #add(workflowId: string, capability: string): void {
    const waiting = this.#waiting.get(capability);
    if (waiting) waiting.add(workflowId);
    else this.#waiting.set(capability, new Set([workflowId]));
    this.#wakeAtReopening(capability);
  }

  #wakeAtReopening(capability: string): void {
    const reopenAt = this.registry.nextReopenAt(capability);
    if (reopenAt === undefined || this.#reopenTimers.has(capability) || this.#stopped) return;
    const timer = setTimeout(() => {
      this.#reopenTimers.delete(capability);
      this.#wake(capability);
    }, Math.max(0, reopenAt - this.now()) + 1);
    timer.unref();
    this.#reopenTimers.set(capability, timer);
  }

  /**
   * Wakes the workflows listed under the capability when it has a candidate. They stay listed: one
   * still waiting after the wake (the agent went again) decides no new wait, and a listed one that
   * no longer waits decides nothing.
   */
  #wake(capability: string): void {
    const waiting = this.#waiting.get(capability);
    if (!waiting || this.#stopped || this.registry.candidates(capability).length === 0) return;
    this.wake(waiting);
  }
}
