/**
 * The agent transport: how the engine reaches an agent. One call = one step attempt (or one
 * compensation attempt). In-process functions and remote protocols (HTTP, Agent2Agent) all sit
 * behind this interface, so the invoker, the breaker and the bulkheads never know where an agent runs.
 */
import { z } from 'zod';
import type { Json } from '../store/port.js';
import { isJson } from '../store/validation.js';

export type CallKind = 'step' | 'compensation';

export interface AgentCall {
  readonly workflowId: string;
  readonly stepId: string;
  /** 1-based attempt number of this step (or compensation). */
  readonly attempt: number;
  readonly action: string;
  readonly input: Json;
  /**
   * Names the logical operation: `workflowId:stepId` for a step, `workflowId:stepId:compensate` for
   * its compensation; the same for every attempt, retry and re-send after a crash (a step with
   * `perAttempt` keys gets `workflowId:stepId:attempt`). An agent that records the key with the
   * effect, in the same transaction, makes the operation take effect once. See docs/agents.md.
   */
  readonly idempotencyKey: string;
  /**
   * Compensations only: the keys under which the step's action may have taken effect. The step may
   * have failed or timed out after its action ran: undo whatever was done under these keys, and
   * succeed when nothing was.
   */
  readonly compensates?: readonly string[];
  /** Epoch milliseconds after which the caller stops waiting. */
  readonly deadline: number;
  readonly kind: CallKind;
  /**
   * A remote task the agent already accepted for this attempt (recorded as StepTaskAccepted): a
   * transport that knows tasks follows it to its end instead of sending the call again.
   */
  readonly taskId?: string;
  /**
   * The W3C trace context of the call's span (`traceparent`, maybe `tracestate`), when an
   * OpenTelemetry SDK is registered: HTTP sends it as headers; an in-process handler can continue
   * the trace with `propagation.extract(ROOT_CONTEXT, ctx.call.trace)`.
   */
  readonly trace?: Readonly<Record<string, string>>;
}

export interface AgentError {
  readonly message: string;
  readonly code?: string;
  /** True when another attempt (here or on another agent) may succeed. */
  readonly retryable: boolean;
}

export type AgentCallResult =
  | { readonly ok: true; readonly output: Json }
  | { readonly ok: false; readonly error: AgentError };

/**
 * How a transport learns that a call must stop: `signal` aborts at the deadline (or when the caller
 * gives up). The invoker makes the signal on first read: most in-process calls finish without
 * looking at it, and making an AbortSignal per call was a third of a call's cost in Node 20.
 */
export interface CallCancellation {
  readonly signal: AbortSignal;
  /**
   * A transport whose agent accepts the call as a long-running remote task reports the task's id
   * here as soon as it is known, so the runtime records it and a re-send after a restart follows
   * the task (AgentCall.taskId). Absent when nobody records it.
   */
  readonly taskAccepted?: (taskId: string) => void;
}

/**
 * The abort reason when the caller stops waiting but the work should go on: a runtime shutting
 * down, whose successor follows the same task. Remote transports leave the remote work running for
 * it; any other abort (a deadline, a cancel) asks the agent to stop the work.
 */
export class CallDetached extends Error {
  constructor(message = 'The caller stopped waiting; the work goes on') {
    super(message);
    this.name = 'CallDetached';
  }
}

export interface AgentTransport {
  /**
   * Perform the call. When `cancellation.signal` aborts, a transport should stop work and settle
   * promptly. Transports may throw or reject; the caller turns that into a failure (see
   * {@link invokeTransport}).
   */
  invoke(call: AgentCall, cancellation: CallCancellation): Promise<AgentCallResult>;
}

/** Is `value` plain JSON (what an event can store)? The store's check, shared. */
export { isJson };

/** Validates what any transport returns; remote transports should parse response bodies with it. */
export const agentCallResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), output: z.custom<Json>((value) => isJson(value), 'output must be plain JSON') }),
  z.object({
    ok: z.literal(false),
    error: z.object({ message: z.string(), code: z.string().optional(), retryable: z.boolean() }),
  }),
]);

export function failure(message: string, code: string | undefined, retryable: boolean): AgentCallResult {
  return { ok: false, error: code === undefined ? { message, retryable } : { message, code, retryable } };
}

/** Thrown by agent code to fail with a chosen code and retryability (any other error is retryable). */
export class AgentFailure extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly retryable = true,
  ) {
    super(message);
    this.name = 'AgentFailure';
  }
}

/** Converts anything an agent threw into a failure result. */
export function failureFromError(error: unknown): AgentCallResult {
  if (error instanceof AgentFailure) return failure(error.message, error.code, error.retryable);
  const message = error instanceof Error ? error.message : String(error);
  return failure(message || 'Agent threw', 'agent-error', true);
}

export function timeoutFailure(call: AgentCall): AgentCallResult {
  return failure(`Deadline exceeded for ${call.idempotencyKey} (${call.action})`, 'timeout', true);
}

/**
 * Call a transport so that it never throws: exceptions and malformed results become failures.
 * It does not watch the signal (see {@link invokeTransport}; the invoker settles a call at its
 * deadline itself).
 */
export async function callTransport(transport: AgentTransport, call: AgentCall, cancellation: CallCancellation): Promise<AgentCallResult> {
  try {
    return checkedResult(await transport.invoke(call, cancellation));
  } catch (error) {
    return failureFromError(error);
  }
}

/** What a transport answered, as a result: itself when well formed, else an `invalid-result` failure saying what is wrong. */
export function checkedResult(raw: unknown): AgentCallResult {
  const wellFormed = wellFormedResult(raw);
  if (wellFormed) return wellFormed;
  const parsed = agentCallResultSchema.safeParse(raw);
  if (parsed.success) return parsed.data as AgentCallResult;
  return failure(`Transport returned a malformed result: ${parsed.error.issues[0]?.message ?? 'invalid'}`, 'invalid-result', false);
}

/**
 * Call a transport so that it can never throw and never outlive its signal: exceptions, malformed
 * results and an abort all become failure results. A late answer after the abort is dropped.
 * `onAbort` decides which failure an abort means (by default a deadline overrun: timeout).
 */
export async function invokeTransport(
  transport: AgentTransport,
  call: AgentCall,
  signal: AbortSignal,
  onAbort: () => AgentCallResult = () => timeoutFailure(call),
): Promise<AgentCallResult> {
  if (signal.aborted) return onAbort();
  let removeListener = (): void => {};
  const aborted = new Promise<AgentCallResult>((resolve) => {
    const listener = (): void => resolve(onAbort());
    signal.addEventListener('abort', listener, { once: true });
    removeListener = () => signal.removeEventListener('abort', listener);
  });
  try {
    return await Promise.race([callTransport(transport, call, { signal }), aborted]);
  } finally {
    removeListener();
  }
}

/**
 * The result as `agentCallResultSchema` would give it (unknown keys dropped), checked by hand, or
 * undefined to let the schema find what is wrong and say so. Every call's result passes here, and
 * a schema parse allocates more than the rest of an in-process call.
 */
function wellFormedResult(raw: unknown): AgentCallResult | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const result = raw as { ok?: unknown; output?: unknown; error?: unknown };
  if (result.ok === true) return isJson(result.output) ? { ok: true, output: result.output } : undefined;
  if (result.ok !== false || typeof result.error !== 'object' || result.error === null) return undefined;
  const { message, code, retryable } = result.error as { message?: unknown; code?: unknown; retryable?: unknown };
  if (typeof message !== 'string' || typeof retryable !== 'boolean') return undefined;
  if (code === undefined) return { ok: false, error: { message, retryable } };
  return typeof code === 'string' ? { ok: false, error: { message, code, retryable } } : undefined;
}
