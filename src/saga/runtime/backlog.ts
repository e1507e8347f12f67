/**
 * One runtime's admission bookkeeping over the durable backlog (docs/scaling.md, "The backlog"). The
 * backlog itself is in the store (queued WorkflowStarted events); this is what the runtime knows of
 * it: the slots (workflows it drives that are admitted and not ended, at most `limit` of them by its
 * own admissions) and the queued workflows it owns, in admission order: priority, higher first, then
 * age (the WorkflowStarted time), then id, so two runtimes pick in the same order.
 *
 * A workflow is in at most one of the two. Queued ones sit in a binary heap with lazy deletion: one
 * that leaves (cancelled, admitted elsewhere, no longer ours) is dropped from the index at once and
 * skipped when it surfaces, so each admission costs O(log n) however deep the backlog is.
 */
interface Queued {
  readonly workflowId: string;
  readonly priority: number;
  readonly startedAt: number;
}

export class Backlog {
  readonly #limit: number;
  readonly #slots = new Set<string>();
  /** Queued workflows by id: the truth; the heap may hold stale entries of ids no longer here. */
  readonly #queued = new Map<string, Queued>();
  readonly #heap: Queued[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Workflows holding a slot. */
  get active(): number {
    return this.#slots.size;
  }

  /** Queued workflows this runtime owns. */
  get waiting(): number {
    return this.#queued.size;
  }

  /** Takes a slot for a new start when one is free (and nothing older waits for it); false: store the start queued. */
  tryHold(workflowId: string): boolean {
    if (this.#slots.size >= this.#limit || this.#queued.size > 0) return false;
    this.#slots.add(workflowId);
    return true;
  }

  /**
   * A workflow this runtime drives is admitted: it holds a slot, even beyond the limit (a takeover,
   * or another runtime admitted it). Only admissions are bounded by the limit.
   */
  hold(workflowId: string): void {
    this.#drop(workflowId);
    this.#slots.add(workflowId);
  }

  holds(workflowId: string): boolean {
    return this.#slots.has(workflowId);
  }

  /** A queued workflow of ours; ignored when it already holds a slot (an admission of it is under way). */
  enqueue(workflowId: string, priority: number, startedAt: number): void {
    if (this.#slots.has(workflowId) || this.#queued.has(workflowId)) return;
    const entry = { workflowId, priority, startedAt };
    this.#queued.set(workflowId, entry);
    this.#push(entry);
  }

  /** The workflow ended or is no longer ours: its slot or its place in the queue is given up. */
  forget(workflowId: string): void {
    this.#slots.delete(workflowId);
    this.#drop(workflowId);
  }

  /**
   * The next queued workflow to admit, now holding a slot; undefined when no slot is free or nothing
   * is queued. The caller appends its admission (and gives it back with `requeue` if that fails).
   */
  admitNext(): string | undefined {
    if (this.#slots.size >= this.#limit) return undefined;
    while (this.#heap.length > 0) {
      const top = this.#pop();
      if (this.#queued.get(top.workflowId) !== top) continue; // left the queue since it was pushed
      this.#queued.delete(top.workflowId);
      this.#slots.add(top.workflowId);
      return top.workflowId;
    }
    return undefined;
  }

  /** An admission that could not be stored: the workflow waits again, in its place. */
  requeue(workflowId: string, priority: number, startedAt: number): void {
    this.#slots.delete(workflowId);
    this.enqueue(workflowId, priority, startedAt);
  }

  /** Queued workflows per priority, highest first. */
  depthByPriority(): { priority: number; depth: number }[] {
    const depth = new Map<number, number>();
    for (const { priority } of this.#queued.values()) depth.set(priority, (depth.get(priority) ?? 0) + 1);
    return [...depth].sort(([a], [b]) => b - a).map(([priority, n]) => ({ priority, depth: n }));
  }

  #drop(workflowId: string): void {
    this.#queued.delete(workflowId);
    if (this.#queued.size === 0) this.#heap.length = 0; // nothing live is left in it
  }

  // --- binary heap, the best (first to admit) on top --------------------------------------------

  #push(entry: Queued): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent] as Queued)) break;
      heap[i] = heap[parent] as Queued;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Queued {
    const heap = this.#heap;
    const top = heap[0] as Queued;
    const last = heap.pop() as Queued;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as Queued, heap[left] as Queued) ? right : left;
      if (!before(heap[child] as Queued, last)) break;
      heap[i] = heap[child] as Queued;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

/** Admission order: higher priority, then older, then the id (the same order in every runtime). */
function before(a: Queued, b: Queued): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt;
  return a.workflowId < b.workflowId;
}
