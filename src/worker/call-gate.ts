/**
 * The gate a draining worker closes: agent calls already running finish (up to the drain deadline),
 * calls that arrive after the gate closed are held, not performed, until the runtime's stop aborts
 * them. An aborted call's result is dropped by the runtime, not recorded as a failure, so the
 * attempt is left, untouched, for the next worker to pick up at its deadline.
 */
import { failure, type AgentCall, type AgentCallResult, type AgentDefinition, type AgentTransport, type CallCancellation } from '../agents/index.js';

export class CallGate {
  #open = true;
  #running = 0;
  #held = 0;
  #onIdle: (() => void) | undefined;

  /** Agent calls being performed now. */
  get running(): number {
    return this.#running;
  }

  /** Calls that arrived after the gate closed, held until aborted. */
  get held(): number {
    return this.#held;
  }

  /** The agent with its transport behind this gate. */
  guard(agent: AgentDefinition): AgentDefinition {
    return { ...agent, transport: this.#guardTransport(agent.transport) };
  }

  /** No new call starts from now on. */
  close(): void {
    this.#open = false;
  }

  /** Resolves true once no call is running, or false when `timeoutMs` passes first. */
  async idle(timeoutMs: number): Promise<boolean> {
    if (this.#running === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => {
      this.#onIdle = () => resolve(true);
    });
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([idle, late]);
    } finally {
      clearTimeout(timer);
      this.#onIdle = undefined;
    }
  }

  #guardTransport(transport: AgentTransport): AgentTransport {
    return {
      invoke: async (call: AgentCall, cancellation: CallCancellation): Promise<AgentCallResult> => {
        if (!this.#open) {
          this.#held++;
          try {
            return await held(cancellation.signal);
          } finally {
            this.#held--;
          }
        }
        this.#running++;
        try {
          return await transport.invoke(call, cancellation);
        } finally {
          this.#running--;
          if (this.#running === 0) this.#onIdle?.();
        }
      },
    };
  }
}

/** Settles only when the call is aborted (the runtime stopping, or the attempt's deadline). */
function held(signal: AbortSignal): Promise<AgentCallResult> {
  return new Promise((resolve) => {
    const settle = () => resolve(failure('The worker is draining: the call was not made', 'draining', true));
    if (signal.aborted) settle();
    else signal.addEventListener('abort', settle, { once: true });
  });
}
