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
  /**
   * Each workflow's entries by step (a step has one or two: its attempt's and its compensation's),
   * so that replacing one step's timers does not look at the timers of thousands of others.
   */
  readonly #byWorkflow = new Map<string, Map<string, Entry[]>>();
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

  /** Replace a workflow's timers with `timers` (an empty list clears them). */
  set(workflowId: string, timers: readonly PendingTimer[]): void {
    const bySteps = this.#byWorkflow.get(workflowId);
    if (timers.length === 0 && bySteps === undefined) return;
    this.#replace(workflowId, bySteps === undefined ? [] : [...bySteps.keys()], timers);
  }

  /**
   * Replace the timers of the steps `stepIds` with `timers` (which are all of those steps) and
   * leave the workflow's other timers as they are: the cost follows the steps changed, not the
   * workflow's width.
   */
  setSteps(workflowId: string, stepIds: Iterable<string>, timers: readonly PendingTimer[]): void {
    this.#replace(workflowId, stepIds, timers);
  }

  clear(workflowId: string): void {
    this.set(workflowId, []);
  }

  stop(): void {
    this.#queue.stop();
  }

  #replace(workflowId: string, stepIds: Iterable<string>, timers: readonly PendingTimer[]): void {
    const wanted = new Map<string, PendingTimer[]>();
    for (const timer of timers) {
      const list = wanted.get(timer.stepId);
      if (list) list.push(timer);
      else wanted.set(timer.stepId, [timer]);
    }
    let bySteps = this.#byWorkflow.get(workflowId);
    for (const stepId of stepIds) {
      if (!wanted.has(stepId) && bySteps) this.#replaceStep(workflowId, bySteps, stepId, []);
    }
    if (wanted.size > 0 && bySteps === undefined) {
      bySteps = new Map();
      this.#byWorkflow.set(workflowId, bySteps);
    }
    if (bySteps) for (const [stepId, list] of wanted) this.#replaceStep(workflowId, bySteps, stepId, list);
    if (bySteps?.size === 0) this.#byWorkflow.delete(workflowId);
  }

  /** Entries whose timer is still wanted (same step, attempt and due time) stay in the queue. */
  #replaceStep(workflowId: string, bySteps: Map<string, Entry[]>, stepId: string, timers: readonly PendingTimer[]): void {
    const existing = bySteps.get(stepId);
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
    if (entries.length > 0) bySteps.set(stepId, entries);
    else bySteps.delete(stepId);
  }

  #onDue(due: Entry[]): void {
    for (const entry of due) {
      const bySteps = this.#byWorkflow.get(entry.workflowId);
      const entries = bySteps?.get(entry.timer.stepId)?.filter((other) => other !== entry);
      if (!bySteps) continue;
      if (entries && entries.length > 0) bySteps.set(entry.timer.stepId, entries);
      else bySteps.delete(entry.timer.stepId);
      if (bySteps.size === 0) this.#byWorkflow.delete(entry.workflowId);
    }
    for (const entry of due) this.#fire(entry.workflowId, entry.timer);
  }
}
