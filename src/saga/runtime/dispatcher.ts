/**
 * Agent calls for the stored StepScheduled / CompensationScheduled events: each goes through the
 * invoker (bulkheads, circuit breaker, deadline) and its result comes back as a trigger for the
 * workflow's queue. On shutdown every call in flight is aborted and its result dropped: a shutdown
 * is not a failure of the step, and the attempt is picked up again at its deadline.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { CallDetached, type AgentCall, type AgentInvoker } from '../../agents/index.js';
import type { WorkflowEvent } from '../events.js';
import { inFlightCall, type ActiveWorkflowState, type InFlightCall, type WorkflowState } from '../state.js';
import type { Trigger } from '../triggers.js';
import { vtoArray } from '../vector.js';
import type { RuntimeTracing } from './tracing.js';

/** An agent call as it is put together here, field by field, before it is handed over. */
type Writable<T> = { -readonly [K in keyof T]: T[K] };

export type ResultTrigger = Extract<Trigger, { kind: 'stepResult' | 'compensationResult' | 'taskAccepted' }>;

export class CallDispatcher {
  readonly #invoker: AgentInvoker;
  readonly #onResult: (workflowId: string, trigger: ResultTrigger, causationId: string) => void;
  readonly #log: Logger;
  readonly #tracing: RuntimeTracing;
  readonly #shutdown = new AbortController();
  #active = 0;
  /** Set while draining: no new call is made (its scheduled event is stored; the next runtime re-sends it). */
  #holding = false;
  /** Resolves waiters when the calls in flight have all settled. */
  #drained: (() => void)[] = [];

  constructor(invoker: AgentInvoker, onResult: (workflowId: string, trigger: ResultTrigger, causationId: string) => void, log: Logger, tracing: RuntimeTracing) {
    this.#invoker = invoker;
    this.#onResult = onResult;
    this.#log = log;
    this.#tracing = tracing;
    // Every call listens to the shutdown signal: thousands at once is expected, not a leak.
    setMaxListeners(0, this.#shutdown.signal);
  }

  /** Calls in flight. */
  get active(): number {
    return this.#active;
  }

  /**
   * Performs the call an appended event asks for, if any. `state` is the workflow's state after the
   * decision: a re-send (StepResumed, CompensationResumed) takes the call from it.
   */
  dispatch(workflowId: string, event: WorkflowEvent, state: WorkflowState): void {
    if (state.status === 'idle') return;
    switch (event.type) {
      case 'StepScheduled':
        this.call(workflowId, { kind: 'step', ...event.data }, event.id, state);
        return;
      case 'CompensationScheduled':
        this.call(workflowId, { kind: 'compensation', ...event.data }, event.id, state);
        return;
      case 'CompensationStarted':
        // A cancelled workflow stops its steps in flight (remote tasks are cancelled); their
        // results come back as failures and compensation follows as usual.
        if (event.data.cause === 'cancel') {
          for (const step of vtoArray(state.steps)) if (step.status === 'running' && step.idempotencyKey !== undefined) this.#invoker.cancelCall(step.idempotencyKey);
        }
        return;
      case 'StepResumed':
      case 'CompensationResumed': {
        const call = inFlightCall(state, event.type === 'StepResumed' ? 'step' : 'compensation', event.data.stepId);
        if (call && call.attempt === event.data.attempt) this.call(workflowId, call, event.id, state);
        return;
      }
      default:
        return;
    }
  }

  /** Performs one call of the workflow in `state`; its result comes back as a trigger caused by `causationId`. */
  call(workflowId: string, call: InFlightCall, causationId: string, state: ActiveWorkflowState): void {
    if (this.#holding) return;
    this.#active++;
    void this.#run(workflowId, call, causationId, state.definition.name, { priority: state.priority, since: state.startedAt });
  }

  /**
   * Make no new calls from now on, and resolve when the calls in flight have settled (their results
   * still come back) or at `deadline` (epoch ms), whichever is first: true if they all settled.
   */
  async hold(deadline: number, now: () => number): Promise<boolean> {
    this.#holding = true;
    if (this.#active === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      this.#settled().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, deadline - now()));
      }),
    ]);
    clearTimeout(timer);
    return settled;
  }

  /** Abort every call in flight and wait until they have all settled. */
  async abortAll(): Promise<void> {
    this.#holding = true;
    // Detached, not cancelled: remote tasks go on, and the next runtime follows them.
    this.#shutdown.abort(new CallDetached('The runtime is shutting down'));
    await this.#settled();
  }

  #settled(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#drained.push(resolve));
  }

  #accepted(workflowId: string, stepId: string, attempt: number, agentId: string, taskId: string, known: string | undefined, causationId: string): void {
    if (taskId === known || this.#shutdown.signal.aborted) return;
    this.#onResult(workflowId, { kind: 'taskAccepted', stepId, attempt, agentId, taskId }, causationId);
  }

  // A counter, not a set of promises: a call costs one async frame here and nothing else.
  async #run(workflowId: string, call: InFlightCall, causationId: string, definition: string, order: { priority: number; since: number }): Promise<void> {
    const { kind, stepId, attempt, agentId, action, capability, input, deadline, idempotencyKey, compensates, taskId } = call;
    const signal = this.#shutdown.signal;
    try {
      // Only steps record their remote task (StepTaskAccepted); a compensation is simply re-sent under its key.
      const taskAccepted = kind === 'step' ? (accepted: string) => this.#accepted(workflowId, stepId, attempt, agentId, accepted, taskId, causationId) : undefined;
      const result = await this.#tracing.call(workflowId, definition, call, (trace) => {
        // One object per call, whatever it carries (optional fields left out, not undefined).
        const agentCall: Writable<AgentCall> = { workflowId, stepId, attempt, action, input, idempotencyKey, deadline, kind };
        if (compensates !== undefined) agentCall.compensates = compensates;
        if (taskId !== undefined) agentCall.taskId = taskId;
        if (trace) agentCall.trace = trace;
        // At a full bulkhead the call waits in its workflow's order: priority, then the workflow's age.
        const options = { capability, signal, priority: order.priority, since: order.since };
        return this.#invoker.invoke(agentId, agentCall, taskAccepted ? { ...options, taskAccepted } : options);
      });
      if (signal.aborted) return;
      const outcome = result.ok
        ? { ok: true as const, output: result.output }
        : { ok: false as const, error: { message: result.error.message, retryable: result.error.retryable, ...(result.error.code === undefined ? {} : { code: result.error.code }) } };
      this.#onResult(workflowId, kind === 'step' ? { kind: 'stepResult', stepId, attempt, outcome } : { kind: 'compensationResult', stepId, attempt, outcome }, causationId);
    } catch (error) {
      this.#log.error({ err: error, workflowId, stepId, attempt }, 'agent call failed unexpectedly');
    } finally {
      this.#active--;
      if (this.#active === 0) for (const resolve of this.#drained.splice(0)) resolve();
    }
  }
}
