/**
 * Many deadlines, one `setTimeout`: an indexed min-heap of entries by due time, with a single Node
 * timer armed for the earliest. Adding and removing an entry is O(log n) and allocates nothing, so
 * it suits deadlines that are set by the thousand and nearly all cancelled before they are due (an
 * agent call's deadline, a step's timeout), where a Node timer each would cost a timer object and a
 * timer-list insertion per deadline.
 *
 * Used by the saga runtime's durable timers (src/saga/runtime/timer-wheel.ts) and by the agent
 * invoker's call deadlines (src/agents/invoker.ts).
 */

/** What the queue orders. `queueIndex` is the queue's own bookkeeping: start it at -1, never set it. */
export interface Deadline {
  readonly dueAt: number;
  queueIndex: number;
}

export interface DeadlineQueueOptions {
  /** The clock `dueAt` is on, in ms (the invoker uses `performance.now`). Default `Date.now`. */
  readonly now?: () => number;
  /** Whether the armed timer keeps the process alive. Default true. */
  readonly keepAlive?: boolean;
}

/** Node clamps delays above 2^31-1 ms; a far deadline simply re-arms when the timer wakes. */
const MAX_DELAY_MS = 2_147_483_647;

export class DeadlineQueue<E extends Deadline> {
  readonly #heap: E[] = [];
  readonly #fire: (due: E[]) => void;
  readonly #now: () => number;
  readonly #keepAlive: boolean;
  #handle: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  #stopped = false;

  /** `fire` gets the entries that are due, already removed from the queue, earliest first. */
  constructor(fire: (due: E[]) => void, options: DeadlineQueueOptions = {}) {
    this.#fire = fire;
    this.#now = options.now ?? Date.now;
    this.#keepAlive = options.keepAlive ?? true;
  }

  get size(): number {
    return this.#heap.length;
  }

  add(entry: E): void {
    if (entry.queueIndex >= 0) return;
    entry.queueIndex = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.queueIndex);
    this.#schedule();
  }

  /** Take an entry out (a no-op for one not in the queue). The timer is left armed: a wake-up with nothing due only re-arms. */
  remove(entry: E): void {
    const index = entry.queueIndex;
    if (index < 0) return;
    const last = this.#heap.pop() as E;
    entry.queueIndex = -1;
    if (last !== entry) {
      this.#heap[index] = last;
      last.queueIndex = index;
      this.#down(index);
      this.#up(last.queueIndex);
    }
    // Empty: the armed timer is let go (unref'd) rather than cleared, so that the next entry, due
    // no earlier, can take it back without a new timer (calls that settle at once empty the queue
    // after nearly every call). If it fires meanwhile it finds nothing due and ends.
    if (this.#heap.length === 0) this.#handle?.unref();
  }

  /** No more firing; entries stay where they are. */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  #disarm(): void {
    if (this.#handle) clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#armedFor = Infinity;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const first = this.#heap[0];
    if (!first) return this.#disarm();
    if (this.#handle && this.#armedFor <= first.dueAt) {
      if (this.#keepAlive) this.#handle.ref();
      return;
    }
    if (this.#handle) clearTimeout(this.#handle);
    this.#armedFor = first.dueAt;
    this.#handle = setTimeout(() => this.#tick(), Math.min(Math.max(0, first.dueAt - this.#now()), MAX_DELAY_MS));
    if (!this.#keepAlive) this.#handle.unref();
  }

  #tick(): void {
    this.#handle = undefined;
    this.#armedFor = Infinity;
    const now = this.#now();
    const due: E[] = [];
    for (let first = this.#heap[0]; first && first.dueAt <= now; first = this.#heap[0]) {
      this.remove(first);
      due.push(first);
    }
    if (due.length > 0) this.#fire(due);
    this.#schedule();
  }

  #less(a: number, b: number): boolean {
    return (this.#heap[a] as E).dueAt < (this.#heap[b] as E).dueAt;
  }

  #swap(a: number, b: number): void {
    const ea = this.#heap[a] as E;
    const eb = this.#heap[b] as E;
    this.#heap[a] = eb;
    this.#heap[b] = ea;
    eb.queueIndex = a;
    ea.queueIndex = b;
  }

  #up(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(index: number): void {
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.#heap.length && this.#less(left, smallest)) smallest = left;
      if (right < this.#heap.length && this.#less(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.#swap(i, smallest);
      i = smallest;
    }
  }
}
