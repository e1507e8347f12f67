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

/** Something a cancellation reaches: an agent call in flight. */
export interface Cancellable {
  /** `reason`: the caller signal's abort reason (e.g. CallDetached on shutdown). */
  cancel(reason?: unknown): void;
}

export class CancellationFanout {
  readonly #watchers = new WeakMap<AbortSignal, Set<Cancellable>>();

  /** Cancel `target` when `signal` aborts (at once if it has). Objects, not closures: no allocation per call. */
  watch(signal: AbortSignal, target: Cancellable): void {
    if (signal.aborted) {
      target.cancel(signal.reason);
      return;
    }
    let watchers = this.#watchers.get(signal);
    if (!watchers) {
      const created = new Set<Cancellable>();
      watchers = created;
      this.#watchers.set(signal, created);
      signal.addEventListener(
        'abort',
        () => {
          for (const watcher of [...created]) watcher.cancel(signal.reason);
          created.clear();
        },
        { once: true },
      );
    }
    watchers.add(target);
  }

  unwatch(signal: AbortSignal, target: Cancellable): void {
    this.#watchers.get(signal)?.delete(target);
  }
}
