/**
 * A bulkhead: at most `maxConcurrent` holders at once; the rest wait in a bounded queue, served by
 * priority (higher first), then age (`since`, older first), then arrival: the same order in which
 * the backlog admits workflows, so an urgent workflow's steps do not queue behind a flood of
 * low-priority ones (docs/agents.md, "Bulkheads"). Without priorities it is first in, first out.
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
  /** Higher is served first. Default 0. */
  readonly priority?: number;
  /** Among waiters of one priority, the smaller (older: a workflow's start, epoch ms) first. Default: after those that give one. */
  readonly since?: number;
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
  readonly priority: number;
  readonly since: number;
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
        priority: options.priority ?? 0,
        since: options.since ?? Number.POSITIVE_INFINITY,
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.splice(this.#placeOf(waiter), 0, waiter);
    });
  }

  /** Where a new waiter goes: after every waiter served before it or at the same rank (arrival breaks ties). */
  #placeOf(waiter: Waiter): number {
    let low = 0;
    let high = this.#queue.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      const other = this.#queue[mid] as Waiter;
      const servedFirst = other.priority !== waiter.priority ? other.priority > waiter.priority : other.since <= waiter.since;
      if (servedFirst) low = mid + 1;
      else high = mid;
    }
    return low;
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
