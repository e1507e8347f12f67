/**
 * One abort listener per caller signal, fanned out to every call that shares it. The runtime passes
 * the same shutdown signal with every call, and an AbortSignal listener costs tens of microseconds
 * in Node 20: far more than the rest of a call's bookkeeping.
 */
/** A call's cancellation whose AbortSignal is made on first read (see CallCancellation). */
export class LazyCancellation {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

export class CancellationFanout {
  readonly #handlers = new WeakMap<AbortSignal, Set<() => void>>();

  /** Run `handler` when `signal` aborts (at once if it has). Returns an unsubscribe function. */
  onAbort(signal: AbortSignal, handler: () => void): () => void {
    if (signal.aborted) {
      handler();
      return () => {};
    }
    let handlers = this.#handlers.get(signal);
    if (!handlers) {
      const created = new Set<() => void>();
      handlers = created;
      this.#handlers.set(signal, created);
      signal.addEventListener(
        'abort',
        () => {
          for (const run of [...created]) run();
          created.clear();
        },
        { once: true },
      );
    }
    const set = handlers;
    set.add(handler);
    return () => set.delete(handler);
  }
}
