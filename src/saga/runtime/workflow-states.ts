/**
 * The runtime's memory of workflow states: in-flight workflows by id (folded from their streams,
 * kept current as decisions are appended), and the last revision of recently ended ones so that late
 * deliveries of their events cost no store read. The stream is always the truth: anything not here
 * is folded from it.
 */
import { StreamNotFoundError } from '../../store/errors.js';
import type { EventStore } from '../../store/port.js';
import type { WorkflowEvent } from '../events.js';
import { initialState, isTerminal, type WorkflowState } from '../state.js';
import { correlationIdOf, replayWorkflow, type ReplayStep } from '../stream/index.js';

export interface CachedWorkflow {
  readonly state: WorkflowState;
  readonly correlationId: string;
  /** Id of the last event folded: the causation of timer decisions. */
  readonly lastEventId: string;
}

/** How many ended workflows are remembered. */
const ENDED_MEMORY = 10_000;

export class WorkflowStates {
  readonly #store: EventStore;
  readonly #inFlight = new Map<string, CachedWorkflow>();
  readonly #ended = new Map<string, number>();
  /** Appends this runtime is making and has no answer for yet: the last revision each writes. */
  readonly #writing = new Map<string, number>();

  constructor(store: EventStore) {
    this.#store = store;
  }

  get size(): number {
    return this.#inFlight.size;
  }

  get(workflowId: string): CachedWorkflow | undefined {
    return this.#inFlight.get(workflowId);
  }

  has(workflowId: string): boolean {
    return this.#inFlight.has(workflowId);
  }

  set(workflowId: string, cached: CachedWorkflow): void {
    this.#inFlight.set(workflowId, cached);
  }

  /** Drop what is known (after a conflict, or an unreadable event): the next load reads the stream. */
  forget(workflowId: string): void {
    this.#inFlight.delete(workflowId);
  }

  ids(): IterableIterator<string> {
    return this.#inFlight.keys();
  }

  entries(): IterableIterator<[string, CachedWorkflow]> {
    return this.#inFlight.entries();
  }

  /** The workflow ended at `revision`: it leaves memory, and its later deliveries are ignored. */
  ended(workflowId: string, revision: number): void {
    this.#inFlight.delete(workflowId);
    this.#ended.set(workflowId, revision);
    if (this.#ended.size > ENDED_MEMORY) {
      const oldest = this.#ended.keys().next().value;
      if (oldest !== undefined) this.#ended.delete(oldest);
    }
  }

  /** True when an event at `revision` is already known: folded in memory, or the workflow ended after it. */
  knows(workflowId: string, revision: number): boolean {
    const cached = this.#inFlight.get(workflowId);
    if (cached && revision <= cached.state.revision) return true;
    return (this.#ended.get(workflowId) ?? -1) >= revision;
  }

  /**
   * This runtime is appending the workflow's events up to `lastRevision` (one append at a time per
   * workflow: its triggers run in turn). Until `written`, its events come back on the subscription
   * ahead of the append's answer, and `knowsOrWrites` lets the follower pass over them unread.
   */
  writing(workflowId: string, lastRevision: number): void {
    this.#writing.set(workflowId, lastRevision);
  }

  written(workflowId: string): void {
    this.#writing.delete(workflowId);
  }

  /**
   * `knows`, or the revision is one this runtime's own append in progress writes. Passing over such
   * an event loses nothing: if it was ours, the answer brings it; if another process wrote that
   * revision first, our append conflicts, and the retry reads the stream (runtime.ts,
   * `#decideAndAppend`); if the append gives up, the workflow is in doubt and its stream is read
   * back (runtime.ts, `#doubt`).
   */
  knowsOrWrites(workflowId: string, revision: number): boolean {
    return this.knows(workflowId, revision) || revision <= (this.#writing.get(workflowId) ?? -1);
  }

  /** From memory, else folded from the store (and kept when in flight); `onStep` sees each event folded then. */
  async load(workflowId: string, onStep?: (step: ReplayStep) => void): Promise<CachedWorkflow> {
    const cached = this.#inFlight.get(workflowId);
    if (cached) return cached;
    const loaded = await this.read(workflowId, onStep);
    if (loaded.state.status !== 'idle' && !isTerminal(loaded.state.status)) this.#inFlight.set(workflowId, loaded);
    return loaded;
  }

  /**
   * Forget what memory holds and fold the stream again (kept when in flight). `news`, if given, gets
   * the events past revision `known` with the state after each, in order, once the fold is done.
   */
  async reload(workflowId: string, known: number, news?: (events: WorkflowEvent[], states: WorkflowState[]) => void): Promise<CachedWorkflow> {
    this.forget(workflowId);
    if (!news) return this.load(workflowId);
    const events: WorkflowEvent[] = [];
    const states: WorkflowState[] = [];
    const loaded = await this.load(workflowId, ({ event, state }) => {
      if (state.revision > known) {
        events.push(event);
        states.push(state);
      }
    });
    if (events.length > 0) news(events, states);
    return loaded;
  }

  /** Fold the workflow's stream (the workflow stream's loader: paged, never one array); `onStep` sees each event folded. */
  async read(workflowId: string, onStep?: (step: ReplayStep) => void): Promise<CachedWorkflow> {
    let correlationId = workflowId;
    try {
      const { state, last } = await replayWorkflow(this.#store, workflowId, undefined, (step) => {
        if (step.recorded.revision === 0n) correlationId = correlationIdOf(step.recorded) ?? workflowId;
        onStep?.(step);
      });
      return { state, correlationId, lastEventId: last?.id ?? '' };
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
      return { state: initialState(workflowId), correlationId, lastEventId: '' };
    }
  }
}
