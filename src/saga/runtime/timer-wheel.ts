/**
 * The runtime's timer wheel: every durable deadline (step timeouts, retry not-before times,
 * compensation timeouts) of every in-flight workflow, in one deadline queue (an indexed min-heap
 * driven by a single `setTimeout` for the earliest; src/shared/deadline-queue.ts). The deadlines
 * themselves live in the events, so after a crash the wheel is rebuilt from the folded states
 * (`pendingTimers`) and nothing is forgotten.
 */
import { DeadlineQueue, type Deadline } from '../../shared/deadline-queue.js';
import type { PendingTimer, TimerRef } from '../state.js';

interface Entry extends Deadline {
  readonly workflowId: string;
  readonly timer: PendingTimer;
}

export type TimerFired = (workflowId: string, timer: TimerRef) => void;

function sameTimer(a: PendingTimer, b: PendingTimer): boolean {
  return a.dueAt === b.dueAt && a.attempt === b.attempt && a.kind === b.kind && a.stepId === b.stepId;
}

export class TimerWheel {
  readonly #queue: DeadlineQueue<Entry>;
  /** Each workflow's entries: a few at most (one per running or waiting step), so a plain array. */
  readonly #byWorkflow = new Map<string, Entry[]>();
  readonly #fire: TimerFired;

  constructor(fire: TimerFired, now: () => number = Date.now) {
    this.#fire = fire;
    // Unref'd: pending durable timers must not keep a process alive that has nothing else to do.
    this.#queue = new DeadlineQueue<Entry>((due) => this.#onDue(due), { now, keepAlive: false });
  }

  /** Timers currently armed (all workflows). */
  get size(): number {
    return this.#queue.size;
  }

  /** Replace a workflow's timers with `timers` (an empty list clears them). Called after every decision. */
  set(workflowId: string, timers: readonly PendingTimer[]): void {
    const existing = this.#byWorkflow.get(workflowId);
    if (timers.length === 0 && existing === undefined) return;
    // Entries whose timer is still wanted (same step, attempt and due time) stay in the queue.
    const entries: Entry[] = [];
    if (existing) {
      for (const entry of existing) {
        if (timers.some((timer) => sameTimer(timer, entry.timer))) entries.push(entry);
        else this.#queue.remove(entry);
      }
    }
    for (const timer of timers) {
      if (entries.some((entry) => sameTimer(entry.timer, timer))) continue;
      const entry: Entry = { workflowId, timer, dueAt: timer.dueAt, queueIndex: -1 };
      entries.push(entry);
      this.#queue.add(entry);
    }
    if (entries.length > 0) this.#byWorkflow.set(workflowId, entries);
    else this.#byWorkflow.delete(workflowId);
  }

  clear(workflowId: string): void {
    this.set(workflowId, []);
  }

  stop(): void {
    this.#queue.stop();
  }

  #onDue(due: Entry[]): void {
    for (const entry of due) {
      const entries = this.#byWorkflow.get(entry.workflowId)?.filter((other) => other !== entry);
      if (entries && entries.length > 0) this.#byWorkflow.set(entry.workflowId, entries);
      else this.#byWorkflow.delete(entry.workflowId);
    }
    for (const entry of due) this.#fire(entry.workflowId, entry.timer);
  }
}
