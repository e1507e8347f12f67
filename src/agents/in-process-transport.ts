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
      const handler = Object.hasOwn(handlers, call.action) ? handlers[call.action] : undefined;
      if (!handler) return failure(`Unknown action "${call.action}"`, 'unknown-action', false);
      try {
        const output = await handler(call.input, new HandlerContext(call, cancellation));
        return { ok: true, output: output ?? null };
      } catch (error) {
        return failureFromError(error);
      }
    },
  };
}

/**
 * A handler's context. A class, so that the signal is a getter on the prototype: an object literal
 * with a getter makes a new function per call, and the signal itself is made only if read.
 */
class HandlerContext implements ActionContext {
  constructor(
    readonly call: AgentCall,
    private readonly cancellation: CallCancellation,
  ) {}

  get signal(): AbortSignal {
    return this.cancellation.signal;
  }

  get idempotencyKey(): string {
    return this.call.idempotencyKey;
  }

  get attempt(): number {
    return this.call.attempt;
  }

  get kind(): AgentCall['kind'] {
    return this.call.kind;
  }
}
