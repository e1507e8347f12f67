/**
 * One abort listener per caller signal, fanned out to every call that shares it. The runtime passes
 * the same shutdown signal with every call, and an AbortSignal listener costs tens of microseconds
 * in Node 20: far more than the rest of a call's bookkeeping.
 */
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
