/**
 * Agents as plain async functions in this process: for embedded use, tests and the demo.
 */
import type { Json } from '../store/port.js';
import { type AgentCall, type AgentCallResult, type AgentTransport, type CallCancellation, failure, failureFromError } from './transport.js';

export interface ActionContext {
  /** Aborts at the deadline: long-running handlers should watch it. */
  readonly signal: AbortSignal;
  readonly call: AgentCall;
  readonly idempotencyKey: string;
  readonly attempt: number;
  readonly kind: AgentCall['kind'];
}

/** Returns the step's output; throw `AgentFailure` to choose the error code and retryability. */
export type ActionHandler = (input: Json, ctx: ActionContext) => Promise<Json | void> | Json | void;

export function inProcessTransport(handlers: Readonly<Record<string, ActionHandler>>): AgentTransport {
  return {
    async invoke(call: AgentCall, cancellation: CallCancellation): Promise<AgentCallResult> {
      // Own-property check: an action named "toString" must not reach Object.prototype.
      const handler = Object.hasOwn(handlers, call.action) ? handlers[call.action] : undefined;
      if (!handler) return failure(`Unknown action "${call.action}"`, 'unknown-action', false);
      try {
        const output = await handler(call.input, {
          // Read through: the signal is made only for a handler that looks at it.
          get signal() {
            return cancellation.signal;
          },
          call,
          idempotencyKey: call.idempotencyKey,
          attempt: call.attempt,
          kind: call.kind,
        });
        return { ok: true, output: output ?? null };
      } catch (error) {
        return failureFromError(error);
      }
    },
  };
}
