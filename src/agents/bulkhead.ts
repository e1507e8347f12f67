/**
 * A bulkhead: at most `maxConcurrent` holders at once; the rest wait in a bounded FIFO queue.
 * One slow agent (or capability) can then only tie up its own share of the engine.
 */

export type Release = () => void;

export interface BulkheadOptions {
  readonly name: string;
  readonly maxConcurrent: number;
  /** Waiters beyond this are refused at once. Default: unbounded. */
  readonly maxQueue?: number;
}

export interface AcquireOptions {
  /** Give up waiting after this many milliseconds. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export type BulkheadRejectionReason = 'timeout' | 'queue-full' | 'aborted';

export class BulkheadRejectedError extends Error {
  constructor(
    readonly bulkhead: string,
    readonly reason: BulkheadRejectionReason,
  ) {
    super(`Bulkhead "${bulkhead}" refused a slot: ${reason}`);
    this.name = 'BulkheadRejectedError';
  }
}

interface Waiter {
  readonly grant: (release: Release) => void;
}

export class Bulkhead {
  readonly name: string;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  #active = 0;
  readonly #queue: Waiter[] = [];

  constructor(options: BulkheadOptions) {
    if (!(options.maxConcurrent >= 1)) throw new RangeError(`Bulkhead "${options.name}": maxConcurrent must be >= 1`);
    this.name = options.name;
    this.maxConcurrent = options.maxConcurrent;
    this.maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
  }

  get active(): number {
    return this.#active;
  }

  get queueLength(): number {
    return this.#queue.length;
  }

  /** Resolves with a release handle (call it exactly once; extra calls are ignored). */
  acquire(options: AcquireOptions = {}): Promise<Release> {
    if (options.signal?.aborted) return Promise.reject(new BulkheadRejectedError(this.name, 'aborted'));
    if (this.#active < this.maxConcurrent && this.#queue.length === 0) return Promise.resolve(this.#take());
    if (this.#queue.length >= this.maxQueue) return Promise.reject(new BulkheadRejectedError(this.name, 'queue-full'));
    return new Promise<Release>((resolve, reject) => {
      const leave = (reason: BulkheadRejectionReason): void => {
        const index = this.#queue.indexOf(waiter);
        if (index < 0) return;
        this.#queue.splice(index, 1);
        cleanup();
        reject(new BulkheadRejectedError(this.name, reason));
      };
      const onAbort = (): void => leave('aborted');
      const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => leave('timeout'), Math.max(0, options.timeoutMs));
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: (release) => {
          cleanup();
          resolve(release);
        },
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #take(): Release {
    this.#active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active -= 1;
      this.#grantNext();
    };
  }

  #grantNext(): void {
    while (this.#active < this.maxConcurrent && this.#queue.length > 0) {
      const waiter = this.#queue.shift();
      waiter?.grant(this.#take());
    }
  }
}
