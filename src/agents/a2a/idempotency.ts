/**
 * The agent side's memory of idempotency keys: a repeated key gets the first final answer without
 * running the handler again, and a key whose first call is still running waits for it. Only final
 * answers are kept (a success, a failure that another attempt cannot fix); a retryable failure, an
 * input-required answer or a cancelled run is forgotten, so the next attempt runs the handler.
 * Bounded: at most `maxEntries` answers, the oldest forgotten first (docs/agents.md).
 */
import type { AgentCallResult } from '../transport.js';

export const DEFAULT_IDEMPOTENCY_ENTRIES = 10_000;

export class IdempotencyMemory {
  readonly #answers = new Map<string, AgentCallResult>();
  readonly #running = new Map<string, Promise<AgentCallResult>>();

  constructor(readonly maxEntries = DEFAULT_IDEMPOTENCY_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`idempotency maxEntries must be a positive integer, got ${maxEntries}`);
  }

  /** Runs `work` for `key` unless a final answer is known or a run is under way; `ran` says whether this call ran it. */
  async run(key: string, work: () => Promise<AgentCallResult>, isFinal: (result: AgentCallResult) => boolean): Promise<{ result: AgentCallResult; ran: boolean }> {
    const known = this.#answers.get(key);
    if (known) return { result: known, ran: false };
    const running = this.#running.get(key);
    if (running) return { result: await running, ran: false };
    const promise = work();
    this.#running.set(key, promise);
    try {
      const result = await promise;
      if (isFinal(result)) this.#remember(key, result);
      return { result, ran: true };
    } finally {
      this.#running.delete(key);
    }
  }

  get size(): number {
    return this.#answers.size;
  }

  #remember(key: string, result: AgentCallResult): void {
    this.#answers.set(key, result);
    if (this.#answers.size > this.maxEntries) {
      const oldest = this.#answers.keys().next().value;
      if (oldest !== undefined) this.#answers.delete(oldest);
    }
  }
}
