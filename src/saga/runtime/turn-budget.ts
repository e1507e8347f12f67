/**
 * A busy runtime must leave the event loop now and then. With in-process agents every await on the
 * decision path is already resolved when it is reached (the agent's answer, the store's commit
 * answered from the writer thread), so one trigger's microtasks start the next workflow's, and the
 * loop can stay inside one of its turns for seconds: measured at 500 in flight, 6-7 s without a
 * timer or an immediate running. Everything that waits for a timer or a socket waits with it: lease
 * renewals (the runtime lost its own partitions and took them over again, replaying every workflow),
 * step timeouts, the store's batching, an HTTP request to /healthz or /metrics.
 *
 * So every trigger asks first; once the current turn has run for `budgetMs`, the triggers wait for
 * the next turn (one `setImmediate` shared by all of them), and timers and sockets get theirs.
 */
export class TurnBudget {
  readonly #budgetMs: number;
  readonly #now: () => number;
  #turnStarted: number;
  #nextTurn: Promise<void> | undefined;

  constructor(budgetMs: number, now: () => number = () => performance.now()) {
    this.#budgetMs = budgetMs;
    this.#now = now;
    this.#turnStarted = now();
  }

  /**
   * Undefined while the turn is within its budget (the caller goes on without an await); otherwise
   * a promise that resolves in the loop's next turn, the same one for every caller until then.
   */
  spent(): Promise<void> | undefined {
    if (this.#nextTurn) return this.#nextTurn;
    if (this.#now() - this.#turnStarted < this.#budgetMs) return undefined;
    this.#nextTurn = new Promise((resolve) =>
      setImmediate(() => {
        this.#nextTurn = undefined;
        this.#turnStarted = this.#now();
        resolve();
      }),
    );
    return this.#nextTurn;
  }
}
