/**
 * The invoker: one agent call with every guard around it. In order: the agent must be known and
 * callable here; an open circuit fails fast; the capability and agent bulkheads give a slot before
 * the deadline; the breaker admits the call (a probe when half-open); the transport runs with a
 * signal that fires at the deadline; the outcome goes to the breaker and the stats. Never throws:
 * every problem is an `AgentCallResult` failure the saga can retry or fail over from.
 */
import { performance } from 'node:perf_hooks';
import { Bulkhead, BulkheadRejectedError, type Release } from './bulkhead.js';
import type { CallOutcome } from './circuit-breaker.js';
import { type Logger, silentLogger } from './logging.js';
import type { AgentRegistry } from './registry.js';
import { DeadlineQueue, type Deadline } from '../shared/deadline-queue.js';
import { type Cancellable, CancellationFanout, LazyCancellation } from './cancellation.js';
import { type AgentCall, type AgentCallResult, type AgentTransport, checkedResult, failure, failureFromError, timeoutFailure } from './transport.js';

export interface BulkheadLimits {
  /** Concurrent calls per agent when its registration gives no `maxConcurrency`. Default: no limit. */
  readonly perAgent?: number;
  /** Concurrent calls per capability, by capability name. */
  readonly perCapability?: Readonly<Record<string, number>>;
  /** Concurrent calls for capabilities not named in `perCapability`. Default: no limit. */
  readonly perCapabilityDefault?: number;
  /** Waiters per bulkhead beyond which calls are refused at once. Default 1000. */
  readonly maxQueue?: number;
}

export interface AgentInvokerOptions {
  readonly registry: AgentRegistry;
  readonly logger?: Logger;
  /** Epoch-ms clock for deadlines. Default: the registry's clock. */
  readonly now?: () => number;
  readonly bulkheads?: BulkheadLimits;
}

export interface InvokeOptions {
  /** The capability the call is for (its bulkhead). Default: the call's action. */
  readonly capability?: string;
  /** Cancels the call (shutdown, workflow cancelled): the result is a non-retryable 'cancelled'. */
  readonly signal?: AbortSignal;
  /** Told the id of the remote task the agent accepted the call as (see CallCancellation.taskAccepted). */
  readonly taskAccepted?: (taskId: string) => void;
  /** At a full bulkhead: the call's place among the waiters (its workflow's priority, higher first). Default 0. */
  readonly priority?: number;
  /** At a full bulkhead, among waiters of one priority: older first (its workflow's start, epoch ms). Default: last. */
  readonly since?: number;
}

export interface BulkheadSnapshot {
  readonly name: string;
  readonly active: number;
  readonly queueLength: number;
  readonly maxConcurrent: number;
}

const DEFAULT_MAX_QUEUE = 1000;
const NO_RELEASES: Release[] = [];

export class AgentInvoker {
  readonly #registry: AgentRegistry;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #limits: BulkheadLimits;
  readonly #agentBulkheads = new Map<string, Bulkhead>();
  readonly #capabilityBulkheads = new Map<string, Bulkhead>();
  readonly #cancellation = new CancellationFanout();
  readonly #deadlines: DeadlineQueue<CallInFlight>;
  /** Calls in flight by idempotency key, so that one can be cancelled by its operation (`cancelCall`). */
  readonly #byKey = new Map<string, CallInFlight>();

  constructor(options: AgentInvokerOptions) {
    this.#registry = options.registry;
    this.#logger = options.logger ?? silentLogger();
    this.#now = options.now ?? (() => options.registry.now());
    this.#limits = options.bulkheads ?? {};
    // Deadlines are kept on the monotonic clock, as a delay from when the call starts (so a call's
    // deadline is timed like a timer of its own, whatever the injected clock does meanwhile).
    this.#deadlines = new DeadlineQueue<CallInFlight>(
      (due) => {
        for (const flight of due) flight.expire();
      },
      { now: () => performance.now() },
    );
  }

  async invoke(agentId: string, call: AgentCall, options: InvokeOptions = {}): Promise<AgentCallResult> {
    const refused = this.#refusal(agentId, call);
    if (refused) {
      this.#callLogger(agentId, call).info({ code: refused.ok ? undefined : refused.error.code }, 'call refused');
      return refused;
    }
    const capability = options.capability ?? call.action;
    let releases: Release[];
    try {
      const capabilityBulkhead = this.#capabilityBulkhead(capability);
      const agentBulkhead = this.#agentBulkhead(agentId);
      // Without bulkheads there is nothing to wait for: no promise, no array.
      releases = capabilityBulkhead || agentBulkhead ? await this.#acquireSlots([capabilityBulkhead, agentBulkhead], call, options) : NO_RELEASES;
    } catch (error) {
      const result = this.#bulkheadFailure(error, call);
      this.#registry.stats.rejected(agentId);
      this.#callLogger(agentId, call).info({ code: result.ok ? undefined : result.error.code }, 'no bulkhead slot');
      return result;
    }
    // Without slots to give back, the call's own promise is the answer: no frame waits on it here.
    if (releases === NO_RELEASES) return this.#admitted(agentId, call, options.signal, options.taskAccepted);
    try {
      return await this.#admitted(agentId, call, options.signal, options.taskAccepted);
    } finally {
      for (let i = releases.length - 1; i >= 0; i--) (releases[i] as Release)();
    }
  }

  /** The breaker admits the call (a probe when half-open) or it fails fast. */
  #admitted(agentId: string, call: AgentCall, signal: AbortSignal | undefined, taskAccepted: ((taskId: string) => void) | undefined): Promise<AgentCallResult> | AgentCallResult {
    const admission = this.#registry.admit(agentId);
    if (admission.allowed) return this.#call(agentId, call, signal, taskAccepted);
    this.#registry.stats.rejected(agentId);
    return circuitOpen(agentId, admission.reopenAt);
  }

  /** Bulkheads in use, with their queues: the visible backlog of agent calls. */
  bulkheads(): BulkheadSnapshot[] {
    return [...this.#capabilityBulkheads.values(), ...this.#agentBulkheads.values()].map((bulkhead) => ({
      name: bulkhead.name,
      active: bulkhead.active,
      queueLength: bulkhead.queueLength,
      maxConcurrent: bulkhead.maxConcurrent,
    }));
  }

  /** Failures decided before waiting for anything. */
  #refusal(agentId: string, call: AgentCall): AgentCallResult | undefined {
    const record = this.#registry.get(agentId);
    if (!record?.registered) return failure(`Agent "${agentId}" is not registered`, 'unknown-agent', true);
    if (!this.#registry.transportOf(agentId)) {
      return failure(`Agent "${agentId}" has no transport in this process`, 'agent-not-callable', true);
    }
    if (this.#now() >= call.deadline) return timeoutFailure(call);
    if (!this.#registry.isAvailable(agentId)) {
      this.#registry.stats.rejected(agentId);
      const circuit = record.circuit;
      return circuitOpen(agentId, circuit.status === 'open' ? circuit.reopenAt : undefined);
    }
    return undefined;
  }

  /** Capability first, then agent: always the same order, so waiters cannot deadlock. */
  async #acquireSlots(bulkheads: readonly (Bulkhead | undefined)[], call: AgentCall, options: InvokeOptions): Promise<Release[]> {
    const releases: Release[] = [];
    const { signal, priority, since } = options;
    try {
      for (const bulkhead of bulkheads) {
        if (!bulkhead) continue;
        releases.push(await bulkhead.acquire({ timeoutMs: call.deadline - this.#now(), ...(signal ? { signal } : {}), ...(priority === undefined ? {} : { priority }), ...(since === undefined ? {} : { since }) }));
      }
      return releases;
    } catch (error) {
      for (const release of releases) release();
      throw error;
    }
  }

  async #call(agentId: string, call: AgentCall, external: AbortSignal | undefined, taskAccepted: ((taskId: string) => void) | undefined): Promise<AgentCallResult> {
    const transport = this.#registry.transportOf(agentId);
    if (!transport) {
      this.#registry.recordOutcome(agentId, 'ignored');
      return failure(`Agent "${agentId}" has no transport in this process`, 'agent-not-callable', true);
    }
    // The transport's answer, the deadline (one queue for all calls) and a cancellation (one
    // listener per caller signal) all settle the same object: no timer, race or closure per call.
    const flight = new CallInFlight(call, performance.now() + Math.max(0, call.deadline - this.#now()), taskAccepted);
    this.#deadlines.add(flight);
    this.#byKey.set(call.idempotencyKey, flight);
    if (external) this.#cancellation.watch(external, flight);
    const stats = this.#registry.stats;
    stats.started(agentId);
    const started = performance.now();
    try {
      if (!flight.aborted) void runTransport(transport, flight);
      const result = await flight.result;
      const outcome = healthOutcome(result, flight.cancelled);
      const latency = performance.now() - started;
      this.#registry.recordOutcome(agentId, outcome);
      if (outcome === 'ignored') stats.abandoned(agentId);
      else stats.finished(agentId, outcome === 'success', latency);
      if (!result.ok) this.#callLogger(agentId, call).info({ latencyMs: latency, error: result.error }, 'agent call failed');
      else if (this.#logger.isLevelEnabled('debug')) this.#callLogger(agentId, call).debug({ latencyMs: latency, action: call.action, kind: call.kind }, 'agent call succeeded');
      return result;
    } finally {
      this.#deadlines.remove(flight);
      if (this.#byKey.get(call.idempotencyKey) === flight) this.#byKey.delete(call.idempotencyKey);
      if (external) this.#cancellation.unwatch(external, flight);
    }
  }

  /**
   * Cancel the call in flight for an operation (a workflow cancelled while its step runs): its
   * result is a non-retryable `cancelled`, and a transport that knows remote tasks asks the agent to
   * stop (A2A `tasks/cancel`). False when no such call is in flight here.
   */
  cancelCall(idempotencyKey: string): boolean {
    const flight = this.#byKey.get(idempotencyKey);
    flight?.cancel(new Error('The workflow was cancelled'));
    return flight !== undefined;
  }

  /** Made only when something is logged: a child logger per call is measurable on the hot path. */
  #callLogger(agentId: string, call: AgentCall): Logger {
    return this.#logger.child({ agentId, workflowId: call.workflowId, stepId: call.stepId, attempt: call.attempt });
  }

  #bulkheadFailure(error: unknown, call: AgentCall): AgentCallResult {
    if (!(error instanceof BulkheadRejectedError)) throw error;
    switch (error.reason) {
      case 'timeout':
        return failure(`No slot in bulkhead "${error.bulkhead}" before the deadline of ${call.idempotencyKey}`, 'bulkhead-timeout', true);
      case 'queue-full':
        return failure(`Bulkhead "${error.bulkhead}" queue is full`, 'bulkhead-full', true);
      case 'aborted':
        return failure(`Call ${call.idempotencyKey} cancelled while waiting for a slot`, 'cancelled', false);
    }
  }

  #agentBulkhead(agentId: string): Bulkhead | undefined {
    const limit = this.#registry.get(agentId)?.maxConcurrency ?? this.#limits.perAgent;
    return limit === undefined ? undefined : this.#bulkhead(this.#agentBulkheads, `agent:${agentId}`, agentId, limit);
  }

  #capabilityBulkhead(capability: string): Bulkhead | undefined {
    const named = this.#limits.perCapability;
    const limit = named && Object.hasOwn(named, capability) ? named[capability] : this.#limits.perCapabilityDefault;
    return limit === undefined ? undefined : this.#bulkhead(this.#capabilityBulkheads, `capability:${capability}`, capability, limit);
  }

  /** Bulkheads are made on first use; a changed limit (re-registration) gets a fresh one. */
  #bulkhead(map: Map<string, Bulkhead>, name: string, key: string, limit: number): Bulkhead {
    const existing = map.get(key);
    if (existing?.maxConcurrent === limit) return existing;
    const bulkhead = new Bulkhead({ name, maxConcurrent: limit, maxQueue: this.#limits.maxQueue ?? DEFAULT_MAX_QUEUE });
    map.set(key, bulkhead);
    return bulkhead;
  }
}

/**
 * What a result says about the agent's health. Retryable failures (timeouts, crashes, overload) and
 * malformed answers count against it; a definitive, non-retryable answer (a business rejection, an
 * unknown action) shows a working agent. A cancelled call says nothing.
 */
export function healthOutcome(result: AgentCallResult, cancelled: boolean): CallOutcome {
  if (cancelled) return 'ignored';
  if (result.ok) return 'success';
  return result.error.retryable || result.error.code === 'invalid-result' ? 'failure' : 'success';
}

function circuitOpen(agentId: string, reopenAt: number | undefined): AgentCallResult {
  const until = reopenAt === undefined ? '' : ` until ${new Date(reopenAt).toISOString()}`;
  return failure(`Circuit of agent "${agentId}" is open${until}`, 'circuit-open', true);
}

/**
 * One agent call in flight, settled once: by the transport's answer, its deadline (`expire`, from
 * the invoker's deadline queue) or a cancellation (`cancel`). It is also the call's cancellation as
 * the transport sees it: the AbortSignal is made only if the transport reads it.
 */
class CallInFlight extends LazyCancellation implements Deadline, Cancellable {
  readonly dueAt: number;
  queueIndex = -1;
  cancelled = false;
  readonly result: Promise<AgentCallResult>;
  #settled = false;
  #resolve: ((result: AgentCallResult) => void) | undefined;

  /** `dueAt`: the deadline on the monotonic clock (performance.now). */
  constructor(
    readonly call: AgentCall,
    dueAt: number,
    readonly taskAccepted?: (taskId: string) => void,
  ) {
    super();
    this.dueAt = dueAt;
    this.result = new Promise<AgentCallResult>((resolve) => {
      this.#resolve = resolve;
    });
  }

  settle(result: AgentCallResult): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve?.(result);
  }

  expire(): void {
    this.settle(timeoutFailure(this.call));
    this.abort(new Error('deadline'));
  }

  cancel(reason?: unknown): void {
    if (this.#settled) return;
    this.cancelled = true;
    this.settle(failure(`Call ${this.call.idempotencyKey} cancelled`, 'cancelled', false));
    this.abort(reason instanceof Error ? reason : new Error('cancelled'));
  }
}

/** The transport's answer settles the call; a throw or a malformed answer is a failure, as in callTransport. */
async function runTransport(transport: AgentTransport, flight: CallInFlight): Promise<void> {
  let result: AgentCallResult;
  try {
    result = checkedResult(await transport.invoke(flight.call, flight));
  } catch (error) {
    result = failureFromError(error);
  }
  flight.settle(result);
}
