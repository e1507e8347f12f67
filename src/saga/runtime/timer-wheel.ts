/**
 * The runtime's timer wheel: every durable deadline (step timeouts, retry not-before times,
 * compensation timeouts) of every in-flight workflow, in one indexed min-heap driven by a single
 * `setTimeout` for the earliest. The deadlines themselves live in the events, so after a crash the
 * wheel is rebuilt from the folded states (`pendingTimers`) and nothing is forgotten.
 */
import type { PendingTimer, TimerRef } from '../state.js';

interface Entry {
  readonly workflowId: string;
  readonly timer: PendingTimer;
  /** Position in the heap array; -1 once removed. */
  index: number;
}

export type TimerFired = (workflowId: string, timer: TimerRef) => void;

function sameTimer(a: PendingTimer, b: PendingTimer): boolean {
  return a.dueAt === b.dueAt && a.attempt === b.attempt && a.kind === b.kind && a.stepId === b.stepId;
}

export class TimerWheel {
  readonly #heap: Entry[] = [];
  /** Each workflow's entries: a few at most (one per running or waiting step), so a plain array. */
  readonly #byWorkflow = new Map<string, Entry[]>();
  readonly #fire: TimerFired;
  readonly #now: () => number;
  #handle: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  #stopped = false;

  constructor(fire: TimerFired, now: () => number = Date.now) {
    this.#fire = fire;
    this.#now = now;
  }

  /** Timers currently armed (all workflows). */
  get size(): number {
    return this.#heap.length;
  }

  /** Replace a workflow's timers with `timers` (an empty list clears them). Called after every decision. */
  set(workflowId: string, timers: readonly PendingTimer[]): void {
    const existing = this.#byWorkflow.get(workflowId);
    if (timers.length === 0 && existing === undefined) return;
    // Entries whose timer is still wanted (same step, attempt and due time) stay in the heap.
    const entries: Entry[] = [];
    if (existing) {
      for (const entry of existing) {
        if (timers.some((timer) => sameTimer(timer, entry.timer))) entries.push(entry);
        else this.#remove(entry);
      }
    }
    for (const timer of timers) {
      if (entries.some((entry) => sameTimer(entry.timer, timer))) continue;
      const entry: Entry = { workflowId, timer, index: -1 };
      entries.push(entry);
      this.#push(entry);
    }
    if (entries.length > 0) this.#byWorkflow.set(workflowId, entries);
    else this.#byWorkflow.delete(workflowId);
    this.#schedule();
  }

  clear(workflowId: string): void {
    this.set(workflowId, []);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#handle) clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const first = this.#heap[0];
    if (!first) {
      if (this.#handle) clearTimeout(this.#handle);
      this.#handle = undefined;
      this.#armedFor = Infinity;
      return;
    }
    if (this.#handle && this.#armedFor <= first.timer.dueAt) return;
    if (this.#handle) clearTimeout(this.#handle);
    this.#armedFor = first.timer.dueAt;
    // Node clamps delays above 2^31-1 ms; a far deadline simply re-arms when the timer wakes.
    const delay = Math.min(Math.max(0, first.timer.dueAt - this.#now()), 2_147_483_647);
    this.#handle = setTimeout(() => this.#tick(), delay);
    this.#handle.unref?.();
  }

  #tick(): void {
    this.#handle = undefined;
    this.#armedFor = Infinity;
    const now = this.#now();
    const due: Entry[] = [];
    while (this.#heap[0] && this.#heap[0].timer.dueAt <= now) {
      const entry = this.#heap[0];
      this.#remove(entry);
      const entries = this.#byWorkflow.get(entry.workflowId)?.filter((other) => other !== entry);
      if (entries && entries.length > 0) this.#byWorkflow.set(entry.workflowId, entries);
      else this.#byWorkflow.delete(entry.workflowId);
      due.push(entry);
    }
    for (const entry of due) this.#fire(entry.workflowId, entry.timer);
    this.#schedule();
  }

  #push(entry: Entry): void {
    entry.index = this.#heap.length;
    this.#heap.push(entry);
    this.#up(entry.index);
  }

  #remove(entry: Entry): void {
    const index = entry.index;
    if (index < 0) return;
    const last = this.#heap.pop() as Entry;
    entry.index = -1;
    if (last !== entry) {
      this.#heap[index] = last;
      last.index = index;
      this.#down(index);
      this.#up(last.index);
    }
  }

  #less(a: number, b: number): boolean {
    return (this.#heap[a] as Entry).timer.dueAt < (this.#heap[b] as Entry).timer.dueAt;
  }

  #swap(a: number, b: number): void {
    const ea = this.#heap[a] as Entry;
    const eb = this.#heap[b] as Entry;
    this.#heap[a] = eb;
    this.#heap[b] = ea;
    eb.index = a;
    ea.index = b;
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
