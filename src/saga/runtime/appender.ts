/**
 * The runtime's appends of decisions: one store append per decision, riding out a store that is
 * briefly unreachable (an EventStoreDB leader election, a restart). The same events are appended
 * again with the same expected revision, so if an earlier try did land, the store recognises their
 * ids and nothing is written twice. Gives up after `retryLimitMs`; the workflow's durable timers then
 * pick the work up again later. Other errors (a conflict, a refusal) go straight to the caller.
 * While the store stays unavailable every waiting decision retries, so the warnings are rate-limited:
 * one line per distinct reason per `WARNING_WINDOW_MS`, carrying how many were held back since.
 * Listeners (`/metrics`' `cadenza_store_append_seconds`) get the duration of every store append;
 * with none the clock is not read.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { UnavailableError } from '../../store/errors.js';
import type { EventStore, ExpectedRevision } from '../../store/port.js';
import type { WorkflowEvent } from '../events.js';
import type { WorkflowDefinition } from '../../workflow/definition.js';
import { saveDefinition, toEventDataList, type EventContext } from '../stream/index.js';

export interface DecisionAppenderOptions {
  readonly store: EventStore;
  readonly log: Logger;
  readonly now: () => number;
  /** How long an append is retried while the store is unavailable. */
  readonly retryLimitMs: number;
  /** Whether the runtime has stopped: then an unavailable store is not waited for. */
  readonly stopped: () => boolean;
  /** The `writer` every append carries: the runtime's follower leaves these appends out (follower.ts). */
  readonly writer?: string;
}

/** How often one reason for an unavailable store is logged (a full disk gave ~56 lines a second). */
export const WARNING_WINDOW_MS = 10_000;

export class DecisionAppender {
  readonly #options: DecisionAppenderOptions;
  /** Per reason: when it was last logged, and how many times since it was not. */
  readonly #warned = new Map<string, { at: number; held: number }>();
  readonly #timings = new Set<(seconds: number) => void>();
  readonly #appendOptions: { readonly writer?: string };

  constructor(options: DecisionAppenderOptions) {
    this.#options = options;
    this.#appendOptions = options.writer === undefined ? {} : { writer: options.writer };
  }

  /**
   * The store events are made from the workflow events for each try and not kept while the commit
   * is awaited: hundreds of decisions wait for their commits at once, and what they hold while
   * waiting outlives young-generation collections (and is copied by them).
   */
  async append(stream: string, events: readonly WorkflowEvent[], context: EventContext, expectedRevision: ExpectedRevision): Promise<void> {
    // A start refers to its definition by hash: stored first (once per definition and store).
    const started = events[0];
    if (started?.type === 'WorkflowStarted') await this.#saveDefinition(started.data.definition, started.data.definitionHash);
    // Timed here, around the await this function makes anyway: no promise or closure more per append.
    const timedFrom = this.#timings.size > 0 ? performance.now() : -1;
    try {
      await this.#send(stream, events, context, expectedRevision);
    } catch (error) {
      if (timedFrom >= 0) this.#observe(timedFrom);
      // The common case costs one await; only an unavailable store enters the retry loop.
      if (!(error instanceof UnavailableError)) throw error;
      await this.#retryWhileUnavailable(stream, events, context, expectedRevision, error);
      return;
    }
    if (timedFrom >= 0) this.#observe(timedFrom);
  }

  /** Rides out an unavailable store as the decision's own append does (same limit). */
  async #saveDefinition(definition: WorkflowDefinition, hash: string): Promise<void> {
    const { store, now, retryLimitMs, stopped } = this.#options;
    const giveUpAt = now() + retryLimitMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
      const saving = saveDefinition(store, definition, hash);
      if (saving === undefined) return;
      try {
        await saving;
        return;
      } catch (error) {
        if (!(error instanceof UnavailableError) || stopped() || now() + delay > giveUpAt) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  async #retryWhileUnavailable(stream: string, events: readonly WorkflowEvent[], context: EventContext, expectedRevision: ExpectedRevision, first: UnavailableError): Promise<void> {
    const { log, now, retryLimitMs, stopped } = this.#options;
    const giveUpAt = now() + retryLimitMs;
    let last = first;
    for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
      if (stopped() || now() + delay > giveUpAt) throw last;
      const suppressed = this.#admitWarning(last.message, now());
      if (suppressed !== undefined) log.warn({ err: last, stream, retryInMs: delay, suppressed, windowMs: WARNING_WINDOW_MS }, 'store unavailable; retrying the append');
      await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        await this.#timed(stream, events, context, expectedRevision);
        return;
      } catch (error) {
        if (!(error instanceof UnavailableError)) throw error;
        last = error;
      }
    }
  }

  /** Calls `listener` with the seconds every store append took, failed ones included; returns its removal. */
  onAppend(listener: (seconds: number) => void): () => void {
    this.#timings.add(listener);
    return () => this.#timings.delete(listener);
  }

  /** The store append itself, the one place it is made: with this runtime's writer (follower.ts leaves those appends out). */
  #send(stream: string, events: readonly WorkflowEvent[], context: EventContext, expectedRevision: ExpectedRevision): Promise<unknown> {
    return this.#options.store.append(stream, toEventDataList(events, context), { ...this.#appendOptions, expectedRevision });
  }

  /** One store append of the retry loop; timed only when someone listens, beside the append (the caller awaits the store's own promise). */
  #timed(stream: string, events: readonly WorkflowEvent[], context: EventContext, expectedRevision: ExpectedRevision): Promise<unknown> {
    if (this.#timings.size === 0) return this.#send(stream, events, context, expectedRevision);
    const started = performance.now();
    const appended = this.#send(stream, events, context, expectedRevision);
    // Unnamed callbacks: a named closure made per append gets a naming call from the TypeScript loader.
    appended.then(
      () => this.#observe(started),
      () => this.#observe(started),
    );
    return appended;
  }

  #observe(started: number): void {
    const seconds = (performance.now() - started) / 1000;
    for (const listener of this.#timings) listener(seconds);
  }

  /** Whether to log this reason now: undefined if not, else how many of it were held back since it was last logged. */
  #admitWarning(reason: string, at: number): number | undefined {
    const seen = this.#warned.get(reason);
    if (seen && at - seen.at < WARNING_WINDOW_MS) {
      seen.held += 1;
      return undefined;
    }
    // Reasons are few (a store has a handful of ways to fail); the bound is for a store whose messages vary.
    if (!seen && this.#warned.size >= 100) this.#warned.clear();
    this.#warned.set(reason, { at, held: 0 });
    return seen?.held ?? 0;
  }
}
