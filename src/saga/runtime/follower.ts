/**
 * Following the store: how a runtime learns what other processes appended. At start-up it reads the
 * index of in-flight workflows of its partitions (in-flight-index.ts), folds those, and catches up
 * from the index's position; then it follows the workflow category live, handing each event it has not seen to the
 * runtime's per-workflow queue. While live it writes the index now and then, and once more at stop.
 *
 * What a workflow means to the runtime (is it ours, is it in flight) is the runtime's to say, through
 * `FollowedRuntime`; this module owns the subscription, the position reached and the index.
 */
import type { Logger } from 'pino';
import type { EventStore, Position, RecordedEvent, Subscription, SubscriptionMessage } from '../../store/port.js';
import { evolve } from '../evolve.js';
import { terminalEventTypes } from '../events.js';
import { initialState } from '../state.js';
import { WORKFLOW_STREAM_PREFIX, correlationIdOf, definitionsReady, fromRecorded, workflowIdOf, workflowStream } from '../stream/index.js';
import { INDEX_POSITION_INTERVAL, type InFlightCheckpoint } from './in-flight-index.js';
import type { CachedWorkflow, WorkflowStates } from './workflow-states.js';

/** What the follower asks of the runtime it feeds. */
export interface FollowedRuntime {
  readonly states: WorkflowStates;
  /** At start-up (no timers yet): remember an in-flight workflow of ours, pass over an ended or foreign one. */
  keep(workflowId: string, cached: CachedWorkflow): void;
  /** Another runtime's workflow: never folded at start-up. */
  isForeign(workflowId: string): boolean;
  /** Its events are passed over unread (another runtime's, and nobody here waits for it). */
  ignores(workflowId: string): boolean;
  /** In a partition this runtime does not own (and nobody here waits for it): passed over, at start-up too. */
  outside(workflowId: string): boolean;
  /** A live event this runtime has not folded: queue it behind the workflow's other triggers. */
  observed(workflowId: string, recorded: RecordedEvent): void;
  /** Workflows with triggers queued: in flight even when not (yet) in memory. */
  queuedWorkflows(): Iterable<string>;
  stopped(): boolean;
}

export interface FollowerOptions {
  readonly store: EventStore;
  readonly log: Logger;
  /** The index of in-flight workflows this runtime starts from and writes (the runtime knows its partitions). */
  readonly index: {
    read(): Promise<InFlightCheckpoint | undefined>;
    write(checkpoint: InFlightCheckpoint): Promise<void>;
  };
  /** How often, while live, the index is written; 0: never. */
  readonly checkpointIntervalMs: number;
  /** The `writer` of this runtime's appends (appender.ts): the store may leave them out. */
  readonly ownWriter?: string;
}

export class WorkflowFollower {
  readonly #store: EventStore;
  readonly #log: Logger;
  readonly #index: FollowerOptions['index'];
  readonly #checkpointIntervalMs: number;
  readonly #ownWriter: string | undefined;
  readonly #runtime: FollowedRuntime;
  #subscription: Subscription | undefined;
  #iterator: AsyncIterator<SubscriptionMessage> | undefined;
  #following: Promise<void> = Promise.resolve();
  #live = false;
  /** Every workflow event up to here has been delivered (or passed over as known). */
  #lastPosition: Position | undefined;
  #checkpointTimer: ReturnType<typeof setInterval> | undefined;
  /** The checkpoint being written: writes never overlap, and a forced one waits for it. */
  #writing: Promise<void> | undefined;
  #lastCheckpoint = '';
  /** Workflow events the store decoded and handed over (those passed over unread are not counted). */
  #decoded = 0;
  /** Workflows whose stream could not be read at start-up: not tried again for each of their events. */
  readonly #unreadable = new Set<string>();

  constructor(options: FollowerOptions, runtime: FollowedRuntime) {
    this.#store = options.store;
    this.#log = options.log;
    this.#index = options.index;
    this.#checkpointIntervalMs = options.checkpointIntervalMs;
    this.#ownWriter = options.ownWriter;
    this.#runtime = runtime;
  }

  get decoded(): number {
    return this.#decoded;
  }

  /** True once caught up: from then on timers are armed and events are queued, not folded directly. */
  get live(): boolean {
    return this.#live;
  }

  /**
   * Start-up: read the index of in-flight workflows (the last checkpoint), fold those, then catch up
   * from the checkpoint's position (from the start of the workflow category when there is none).
   * Resolves once caught up, with `live` true; `followLive` then goes on from there.
   */
  async catchUp(): Promise<{ readonly fromIndex: boolean }> {
    const checkpoint = await this.#index.read().catch((error: unknown) => {
      this.#log.warn({ err: error }, 'cannot read the in-flight index; catching up from the start');
      return undefined;
    });
    if (checkpoint) {
      await this.#loadAll(checkpoint.workflows);
      this.#lastPosition = checkpoint.position;
    }
    const subscription = this.#subscribe(checkpoint?.position ?? 'start');
    this.#subscription = subscription;
    const iterator = subscription[Symbol.asyncIterator]();
    this.#iterator = iterator;
    // Catch-up: fold directly (nothing else runs yet); the runtime arms timers once live.
    for (;;) {
      const next = await iterator.next();
      if (next.done) return { fromIndex: checkpoint !== undefined }; // stopped while starting: never live
      const message = next.value;
      if (message.kind === 'caughtUp') break;
      if (message.kind === 'checkpoint') this.#lastPosition = message.position;
      if (message.kind !== 'event') continue;
      this.#decoded++;
      const ready = definitionsReady(this.#store, message.event);
      if (ready) await ready.catch(() => undefined); // an unreadable start is logged by #foldCaughtUp
      const workflowId = this.#foldCaughtUp(message.event);
      if (workflowId !== undefined) await this.#loadFromTail(workflowId);
    }
    this.#live = true;
    return { fromIndex: checkpoint !== undefined };
  }

  /** After `catchUp`: follow live, and write the index every `checkpointIntervalMs`. */
  followLive(): void {
    if (this.#checkpointIntervalMs > 0) {
      this.#checkpointTimer = setInterval(() => void this.writeCheckpoint(), this.#checkpointIntervalMs);
      this.#checkpointTimer.unref();
    }
    const iterator = this.#iterator;
    if (iterator) this.#following = this.#followLive(iterator).catch((error: unknown) => this.#log.error({ err: error }, 'stopped following the store'));
  }

  /** Stop delivering events (the runtime is stopping). */
  async unsubscribe(): Promise<void> {
    await this.#subscription?.unsubscribe();
    await this.#following.catch(() => undefined);
  }

  /** Last: write the index once more, so the next start (or owner) reads next to no tail. */
  async close(): Promise<void> {
    if (this.#checkpointTimer) clearInterval(this.#checkpointTimer);
    await this.writeCheckpoint(true);
  }

  /**
   * The index of in-flight workflows as of the last position seen: every workflow in memory plus
   * every workflow with a trigger queued (an event delivered but not yet folded is one of those).
   */
  async writeCheckpoint(force = false): Promise<void> {
    while (this.#writing) {
      if (!force) return;
      await this.#writing;
    }
    const writing = this.#writeCheckpoint(force);
    this.#writing = writing;
    await writing;
    if (this.#writing === writing) this.#writing = undefined;
  }

  async #writeCheckpoint(force: boolean): Promise<void> {
    if (this.#checkpointIntervalMs <= 0 || !this.#live || this.#lastPosition === undefined) return;
    const workflows = new Set(this.#runtime.states.ids());
    for (const workflowId of this.#runtime.queuedWorkflows()) workflows.add(workflowId);
    const checkpoint = { position: this.#lastPosition, workflows: [...workflows] };
    const fingerprint = `${checkpoint.position.commit}/${checkpoint.workflows.join(',')}`;
    if (fingerprint === this.#lastCheckpoint && !force) return;
    try {
      await this.#index.write(checkpoint);
      this.#lastCheckpoint = fingerprint;
    } catch (error) {
      // The previous checkpoint stays correct (it only makes the next start's tail longer).
      this.#log.warn({ err: error }, 'cannot write the in-flight index');
    }
  }

  /** Folds the workflows the index names, a few at a time. */
  async #loadAll(workflowIds: readonly string[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < workflowIds.length) await this.#load(workflowIds[next++] as string);
    };
    await Promise.all(Array.from({ length: Math.min(16, workflowIds.length) }, worker));
  }

  /** At start-up: fold a workflow's whole stream and keep it if it is in flight and ours. */
  async #load(workflowId: string): Promise<void> {
    const states = this.#runtime.states;
    states.forget(workflowId);
    try {
      this.#runtime.keep(workflowId, await states.read(workflowId));
    } catch (error) {
      this.#log.error({ err: error, workflowId }, 'unreadable workflow; workflow left as it was');
      this.#unreadable.add(workflowId);
    }
  }

  /**
   * A workflow met in the tail at a revision this runtime cannot fold onto. Mostly one that ended
   * before the index's position, met again because the position trails the log by up to a
   * checkpoint interval: its last event says so, and the rest is not read.
   */
  async #loadFromTail(workflowId: string): Promise<void> {
    try {
      for await (const last of this.#store.readStream(workflowStream(workflowId), { direction: 'backwards', fromRevision: 'end', maxCount: 1 })) {
        if (!terminalEventTypes.has(last.type)) break;
        this.#runtime.states.forget(workflowId);
        this.#runtime.states.ended(workflowId, Number(last.revision));
        return;
      }
    } catch {
      // Not readable this way (deleted, or the store failed): the whole read below says why.
    }
    await this.#load(workflowId);
  }

  /** Folds one event at start-up; returns the workflow id when its stream must be read whole instead. */
  #foldCaughtUp(recorded: RecordedEvent): string | undefined {
    const workflowId = workflowIdOf(recorded.stream);
    if (workflowId === undefined) return undefined;
    this.#lastPosition = recorded.position;
    const revision = Number(recorded.revision);
    const states = this.#runtime.states;
    if (this.#runtime.isForeign(workflowId) || this.#unreadable.has(workflowId) || states.knows(workflowId, revision)) return undefined;
    let cached = states.get(workflowId);
    if (!cached) {
      // Started before the index's position (an ended workflow taken up again), or a gap: read it.
      if (revision !== 0) return workflowId;
      cached = { state: initialState(workflowId), correlationId: correlationIdOf(recorded) ?? workflowId, lastEventId: '' };
    } else if (revision !== cached.state.revision + 1) return workflowId;
    try {
      this.#runtime.keep(workflowId, { ...cached, state: evolve(cached.state, fromRecorded(recorded)), lastEventId: recorded.id });
    } catch (error) {
      this.#log.error({ err: error, workflowId, revision: recorded.revision.toString() }, 'unreadable workflow event; workflow left as it was');
      states.forget(workflowId);
      this.#unreadable.add(workflowId);
    }
    return undefined;
  }

  /**
   * Live: other processes' appends go through each workflow's queue like any other trigger. If the
   * subscription fails (a store that went away for longer than its client rides out), follow again
   * from the last position seen, so this runtime never goes deaf to the others.
   */
  async #followLive(iterator: AsyncIterator<SubscriptionMessage>): Promise<void> {
    for (let delay = 100; !this.#runtime.stopped(); delay = Math.min(delay * 2, 5_000)) {
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          const message = next.value;
          if (message.kind === 'checkpoint') this.#lastPosition = message.position;
          if (message.kind !== 'event') continue;
          this.#decoded++;
          delay = 100;
          this.#lastPosition = message.event.position;
          const workflowId = workflowIdOf(message.event.stream);
          if (workflowId === undefined || this.#runtime.ignores(workflowId)) continue;
          // Cheap pre-check outside the queue: our own appends come back here too.
          if (this.#runtime.states.knowsOrWrites(workflowId, Number(message.event.revision))) continue;
          this.#runtime.observed(workflowId, message.event);
        }
      } catch (error) {
        if (this.#runtime.stopped()) return;
        this.#log.error({ err: error, retryInMs: delay }, 'workflow subscription failed; following again from the last position');
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (this.#runtime.stopped()) return;
        const subscription = this.#subscribe(this.#lastPosition ?? 'start');
        this.#subscription = subscription;
        iterator = subscription[Symbol.asyncIterator]();
      }
    }
  }

  /**
   * Every workflow event after `from`. Most of what comes back live is this runtime's own appends,
   * already folded, or events of partitions other runtimes own: the store is told to pass those
   * over without reading them in full, and a store that knows who wrote what (our EventStoreDB
   * server) not to send this runtime's own appends at all (`excludeWriter`).
   *
   * Nothing here depends on reading those back: the runtime folds a decision from its append's
   * answer; an answer lost is appended again with the same event ids (idempotent, appender.ts); and
   * a decision whose append was given up is read back from its stream (`inDoubt`, runtime.ts), so a
   * start that landed unanswered is not lost. Checkpoints still pass the events left out, and the
   * index they position is safe: a workflow with an append under way is queued, so it is in it.
   */
  #subscribe(from: Position | 'start'): Subscription {
    return this.#store.subscribeToAll({
      fromPosition: from,
      ...(this.#ownWriter === undefined ? {} : { excludeWriter: this.#ownWriter }),
      filter: { streamNamePrefix: [WORKFLOW_STREAM_PREFIX] },
      // Positions to take the in-flight index at: it trails the log by at most this many events.
      checkpointInterval: INDEX_POSITION_INTERVAL,
      skip: (stream, revision) => {
        const workflowId = workflowIdOf(stream);
        if (!this.#live) return workflowId !== undefined && this.#runtime.outside(workflowId);
        // Our own appends are passed over even before their answer is back (knowsOrWrites).
        return workflowId !== undefined && (this.#runtime.ignores(workflowId) || this.#runtime.states.knowsOrWrites(workflowId, Number(revision)));
      },
    });
  }
}
