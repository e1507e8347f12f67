/**
 * The saga process manager: the I/O shell around the pure core. For every trigger (a command, an
 * agent's result, a durable timer, an event appended by another process) it loads the workflow's
 * state, calls `decide`, appends the decision with the expected revision it decided from (on a
 * conflict: reload and decide again), then performs the side effects the stored events call for:
 * agent calls for StepScheduled/CompensationScheduled, timers for deadlines.
 *
 * Triggers of one workflow are handled strictly in order, different workflows concurrently (rxjs
 * `groupBy` + `concatMap`). Many runtimes may share one store: each drives the workflows of the
 * partitions it leases (partitions.ts), optimistic concurrency stays the safety net, and an agent is
 * called only by the process whose append of its StepScheduled won, while its lease is valid.
 */
import { randomUUID } from 'node:crypto';
import { Observable, Subject, concatMap, groupBy, mergeMap, type Subscription as RxSubscription } from 'rxjs';
import pino, { type Logger } from 'pino';
import { AgentInvoker } from '../../agents/index.js';
import { UnavailableError, WrongExpectedVersionError } from '../../store/errors.js';
import type { EventStore, RecordedEvent } from '../../store/port.js';
import { validateDefinition } from '../../workflow/validate.js';
import type { WorkflowDefinition, WorkflowDefinitionInput } from '../../workflow/definition.js';
import { jsonDepthProblem, type Json } from '../../workflow/json.js';
import { decideTransition } from '../decide.js';
import { evolve, stepsChangedBy } from '../evolve.js';
import type { WorkflowEvent } from '../events.js';
import { inFlightCalls, initialState, isTerminal, pendingTimers, pendingTimersOf, waitsForAgents, type ActiveWorkflowState, type TimerRef, type WorkflowState } from '../state.js';
import { CommandRejectedError, type DecisionContext, type Trigger, type WorkflowCommand } from '../triggers.js';
import { AgentWaits } from './agent-waits.js';
import { Backlog } from './backlog.js';
import { definitionKey, WorkflowOwnership } from './ownership.js';
import { DecisionAppender } from './appender.js';
import { assertWorkflowId, correlationIdOf, definitionsReady, fromRecorded, workflowStream } from '../stream/index.js';
import { CallDispatcher } from './dispatcher.js';
import { WorkflowFollower } from './follower.js';
import { inFlightIndexStream } from './in-flight-index.js';
import { PartitionIndex } from './partition-index.js';
import { PartitionTakeovers } from './partition-takeover.js';
import { DEFAULT_LEASE_TTL_MS, DEFAULT_PARTITIONS, type PartitionLeases } from './partitions.js';
import { TimerWheel } from './timer-wheel.js';
import { TurnBudget } from './turn-budget.js';
import { RuntimeTracing } from './tracing.js';
import { WorkflowStates, type CachedWorkflow } from './workflow-states.js';
import { StateWaiters } from './waiters.js';
import { WorkflowNotFoundError, type RuntimeStats, type SagaRuntimeOptions, type StartWorkflowOptions, type Transition, type TransitionsListener } from './options.js';

const noCandidates: DecisionContext['candidates'] = () => [];

/** After an admission could not be stored: when the backlog is looked at again. */
const ADMISSION_RETRY_MS = 1_000;
/** After a decision's append was given up: when its stream is first read back, then at most this apart. */
const IN_DOUBT_FIRST_READ_MS = 1_000;
const IN_DOUBT_MAX_READ_MS = 30_000;
/** Work done in one event-loop turn before the triggers let timers and sockets run (options.turnBudgetMs). */
const TURN_BUDGET_MS = 100;

type QueuedTrigger =
  | { readonly kind: 'decide'; readonly workflowId: string; readonly trigger: Trigger; readonly causationId: string; readonly correlationId?: string; readonly reply?: Reply }
  | { readonly kind: 'observed'; readonly workflowId: string; readonly recorded: RecordedEvent }
  /** A workflow of a partition just gained: load it, arm its timers, re-send its calls in flight. */
  | { readonly kind: 'takeover'; readonly workflowId: string }
  /** A workflow whose append was given up: read it back from its stream (#doubt). */
  | { readonly kind: 'reload'; readonly workflowId: string; readonly delayMs: number; readonly start: boolean };

/** Triggers decided for a workflow whose partition is not (or no longer) ours: commands, and results of calls made here (their append is fenced by the expected revision). */
const decidedWhenNotDriven = new Set<Trigger['kind']>(['command', 'stepResult', 'compensationResult', 'taskAccepted']);

interface Reply {
  resolve(events: WorkflowEvent[]): void;
  reject(error: unknown): void;
}

export class SagaRuntime {
  readonly #store: EventStore;
  readonly #invoker: AgentInvoker;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #maxConflictRetries: number;
  readonly #appender: DecisionAppender;
  readonly runtimeId: string;
  /**
   * The `writer` of this runtime's appends, which its subscription asks the store to leave out
   * (follower.ts). New for every runtime, never `runtimeId`: a runtime restarted under a configured
   * id must read back what its previous life appended after the in-flight index's position.
   */
  readonly #writer = randomUUID();
  /**
   * Workflows whose last append was given up (the store stayed unavailable): it may have been stored
   * unanswered, and this runtime's own appends are not read back from its subscription, so the
   * stream is read (a `reload` trigger, retried until the store answers). The timer of the next read.
   */
  readonly #inDoubt = new Map<string, ReturnType<typeof setTimeout>>();
  /** Slots and the queued workflows this runtime owns, in admission order. */
  readonly #backlog: Backlog;
  readonly #cache: WorkflowStates;
  readonly #waiters = new StateWaiters();
  readonly #timers: TimerWheel;
  readonly #triggers = new Subject<QueuedTrigger>();
  /** Who is told of each decision appended or event observed (onTransitions; transitions$ is one of them per subscriber). */
  readonly #transitionListeners = new Set<TransitionsListener>();
  readonly #groupClosers = new Map<string, Subject<void>>();
  /** Triggers of workflows this runtime holds, met while its lease was past its validity: decided after the next renewal. */
  #deferred: Extract<QueuedTrigger, { kind: 'decide' }>[] = [];
  /** Set after an admission failed to be stored: the next round of admissions (#admissionFailed). */
  #admissionRetry: ReturnType<typeof setTimeout> | undefined;
  readonly #pendingPerWorkflow = new Map<string, number>();
  // Triggers leave the event loop a turn every so often (turn-budget.ts says why).
  readonly #turns: TurnBudget;
  readonly #dispatcher: CallDispatcher;
  readonly #tracing = new RuntimeTracing();
  readonly #candidates: DecisionContext['candidates'];
  /** Which workflows are this runtime's to drive: hosted definitions, leased partitions (ownership.ts). */
  readonly #ownership: WorkflowOwnership;
  /** Workflows with a step or compensation waiting for an agent: woken when one may be there. */
  readonly #agentWaits: AgentWaits;
  #pipeline: RxSubscription | undefined;
  readonly #follower: WorkflowFollower;
  #stopped = false;
  /** Set by drain(): starts are refused. */
  #draining = false;
  #decisions = 0;
  #conflicts = 0;
  #appended = 0;
  /** Own appends the subscription delivered before this runtime knew them (decoded, then found known). */
  #decodedOwn = 0;
  /** The partitions this runtime drives (partitions.ts), held by #ownership. */
  readonly #leases: PartitionLeases;
  /** Partitions gained and lost while live (partition-takeover.ts). */
  readonly #takeovers: PartitionTakeovers;
  /** The in-flight index of each partition held (partition-index.ts). */
  readonly #index: PartitionIndex;

  /** Every transition, appended here or observed from another process, one event at a time. */
  readonly transitions$: Observable<Transition> = new Observable<Transition>((subscriber) =>
    this.onTransitions((workflowId, events, states) => {
      for (let i = 0; i < events.length; i++) subscriber.next({ workflowId, event: events[i] as WorkflowEvent, state: states[i] as WorkflowState });
    }),
  );

  private constructor(options: SagaRuntimeOptions) {
    this.#store = options.store;
    this.#cache = new WorkflowStates(options.store);
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#maxConflictRetries = options.maxConflictRetries ?? 20;
    this.#appender = new DecisionAppender({
      store: options.store,
      log: this.#log,
      now: this.#now,
      retryLimitMs: options.appendRetryLimitMs ?? 30_000,
      stopped: () => this.#stopped,
      writer: this.#writer,
    });
    this.runtimeId = options.runtimeId ?? randomUUID();
    this.#backlog = new Backlog(options.maxInFlight ?? 1000);
    this.#turns = new TurnBudget(options.turnBudgetMs ?? TURN_BUDGET_MS);
    this.#invoker = options.invoker ?? new AgentInvoker({ registry: options.registry, now: this.#now, ...(options.bulkheads ? { bulkheads: options.bulkheads } : {}) });
    this.#agentWaits = new AgentWaits(options.registry, this.#now, (workflowIds) => {
      for (const workflowId of workflowIds) {
        const cached = this.#cache.get(workflowId);
        if (cached && waitsForAgents(cached.state) && !this.#stopped) this.#enqueue({ kind: 'decide', workflowId, trigger: { kind: 'wake' }, causationId: cached.lastEventId });
      }
    });
    this.#candidates = (capability) => options.registry.candidates(capability);
    const hosted = options.definitions === undefined ? undefined : new Set(options.definitions.map((definition) => definitionKey(validateDefinition(definition))));
    this.#ownership = new WorkflowOwnership({
      hosted,
      group: options.ownershipGroup,
      leases: {
        store: options.store,
        log: this.#log,
        runtimeId: this.runtimeId,
        partitions: options.partitions ?? DEFAULT_PARTITIONS,
        ttlMs: options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
        guest: options.leases === 'guest',
        now: this.#now,
        changed: (tableKey, gained, lost) => this.#takeovers.changed(tableKey, gained, lost),
        renewed: () => this.#renewed(),
      },
    });
    this.#leases = this.#ownership.leases;
    this.#index = new PartitionIndex({
      store: options.store,
      legacyStream: inFlightIndexStream(hosted),
      partitionOf: (tableKey, workflowId) => this.#leases.partitionOf(tableKey, workflowId),
    });
    this.#follower = new WorkflowFollower(
      {
        store: options.store,
        log: this.#log,
        index: {
          read: () => this.#index.read(this.#leases.owned()),
          write: (checkpoint) => this.#index.write(checkpoint, this.#leases.owned(), (workflowId) => this.#indexTablesOf(workflowId)),
        },
        checkpointIntervalMs: options.checkpointIntervalMs ?? 5_000,
        ownWriter: this.#writer,
      },
      {
        states: this.#cache,
        keep: (workflowId, cached) => this.#keep(workflowId, cached),
        isForeign: (workflowId) => this.#ownership.isForeign(workflowId),
        ignores: (workflowId) => this.#ignores(workflowId),
        outside: (workflowId) => !this.#leases.followsAny(workflowId) && !this.#waiters.waitsFor(workflowId),
        observed: (workflowId, recorded) => this.#enqueue({ kind: 'observed', workflowId, recorded }),
        // In doubt too: a start stored unanswered is in the index until its stream is read back.
        queuedWorkflows: () => [...[...this.#pendingPerWorkflow].filter(([, pending]) => pending > 0).map(([workflowId]) => workflowId), ...this.#inDoubt.keys()],
        stopped: () => this.#stopped,
      },
    );
    this.#takeovers = new PartitionTakeovers({
      states: this.#cache,
      ownership: this.#ownership,
      index: this.#index,
      log: this.#log,
      live: () => this.#follower.live,
      stopped: () => this.#stopped,
      drop: (workflowId) => this.#drop(workflowId),
      enqueueTakeover: (workflowId) => this.#enqueue({ kind: 'takeover', workflowId }),
      settle: (workflowId, loaded) => this.#settle(workflowId, loaded),
      resume: (workflowId, loaded) => this.#resumeCalls(workflowId, loaded, `re-sent by runtime ${this.runtimeId} on taking its partition over`),
      writeCheckpoint: () => void this.#follower.writeCheckpoint(true),
      admitQueued: () => this.#admitQueued(),
    });
    this.#timers = new TimerWheel((workflowId, timer) => this.#onTimer(workflowId, timer), this.#now);
    this.#dispatcher = new CallDispatcher(this.#invoker, (workflowId, trigger, causationId) => {
      if (!this.#stopped) this.#enqueue({ kind: 'decide', workflowId, trigger, causationId });
    }, this.#log, this.#tracing);
  }

  /**
   * Start a runtime: catch up with every workflow in the store (rebuilding the state of in-flight
   * ones and their timers, so a restarted process finishes what a killed one started), then go live.
   */
  static async start(options: SagaRuntimeOptions): Promise<SagaRuntime> {
    const runtime = new SagaRuntime(options);
    runtime.#startPipeline();
    // Lease first, so the catch-up reads only the partitions this runtime owns.
    await runtime.#leases.renew();
    await runtime.#follow();
    runtime.#leases.renewEvery();
    return runtime;
  }

  /**
   * Start a workflow: resolves once WorkflowStarted is stored, never waiting for a slot. With a free
   * slot the workflow runs at once (one append); without one it is stored queued and admitted, by
   * priority then age, when a slot frees here or in another runtime that owns it.
   */
  async startWorkflow(definition: WorkflowDefinition | WorkflowDefinitionInput, input: Json, options: StartWorkflowOptions = {}): Promise<{ workflowId: string; queued: boolean }> {
    this.#assertRunning();
    const workflowId = options.workflowId ?? randomUUID();
    assertWorkflowId(workflowId);
    // Validate before taking a slot: a bad definition is the caller's error, not the backlog's.
    const validated = validateDefinition(definition);
    if (!this.#ownership.hostsDefinition(definitionKey(validated))) {
      throw new CommandRejectedError('start', `Cannot start: definition ${definitionKey(validated)} is not hosted by this runtime (it hosts ${this.#ownership.hostedKeys().join(', ') || 'none'})`);
    }
    const tooDeep = jsonDepthProblem(input);
    if (tooDeep !== undefined) throw new CommandRejectedError('start', `Cannot start: input is ${tooDeep}`);
    // Admitted at once only by the runtime that drives it, with a slot free and nobody queued before it.
    const admit = this.#ownership.owns(workflowId, initialState(workflowId), validated) && this.#backlog.tryHold(workflowId);
    try {
      const command: WorkflowCommand = { type: 'start', workflowId, definition: validated, input, ...(options.priority === undefined ? {} : { priority: options.priority }), admit };
      await this.#command(workflowId, command, options.correlationId ?? workflowId);
    } catch (error) {
      if (admit && !this.#cache.has(workflowId)) this.#backlog.forget(workflowId);
      throw error;
    }
    return { workflowId, queued: !admit };
  }

  /** Cancel a running or paused workflow: its succeeded steps are compensated. */
  cancel(workflowId: string, reason?: string): Promise<WorkflowEvent[]> {
    return this.#existingCommand(workflowId, reason === undefined ? { type: 'cancel' } : { type: 'cancel', reason });
  }

  /** Roll back a running or paused workflow by compensation; on a failed compensation, retry what failed. */
  compensate(workflowId: string, reason?: string): Promise<WorkflowEvent[]> {
    return this.#existingCommand(workflowId, reason === undefined ? { type: 'compensate' } : { type: 'compensate', reason });
  }

  /** Give a paused workflow's failed steps a new round of attempts. */
  retry(workflowId: string): Promise<WorkflowEvent[]> {
    return this.#existingCommand(workflowId, { type: 'retry' });
  }

  /** Record a manual resolution of a workflow whose compensation failed (`compensate` retries it instead). */
  resolve(workflowId: string, note: string): Promise<WorkflowEvent[]> {
    return this.#existingCommand(workflowId, { type: 'resolve', note });
  }

  /**
   * Make the agent calls a workflow is waiting for, when they were appended by this process without
   * a runtime (a fork, a command appended directly): principle 4 says the appender calls the agents,
   * and a tool that appended and then starts a runtime is that appender. Returns how many calls were
   * made. Never adopt a workflow another live runtime is driving: its calls would be made twice.
   */
  async adopt(workflowId: string): Promise<number> {
    this.#assertRunning();
    const cached = await this.#reloadTelling(workflowId);
    if (cached.state.status === 'idle') throw new WorkflowNotFoundError(workflowId);
    this.#settle(workflowId, cached);
    const calls = inFlightCalls(cached.state);
    for (const call of calls) this.#dispatcher.call(workflowId, call, cached.lastEventId, cached.state);
    return calls.length;
  }

  /** The workflow's current state (from memory when in flight, else folded from its stream). */
  async getState(workflowId: string): Promise<WorkflowState> {
    const cached = this.#cache.get(workflowId);
    if (cached) return cached.state;
    return (await this.#cache.read(workflowId)).state;
  }

  /**
   * Resolves with the state once the workflow has ended (or, with `orPaused`, is paused waiting for
   * an operator). Throws `WorkflowNotFoundError` for a workflow that was never started.
   */
  async waitForEnd(workflowId: string, options: { orPaused?: boolean } = {}): Promise<ActiveWorkflowState> {
    const done = (state: ActiveWorkflowState) => isTerminal(state.status) || (options.orPaused === true && state.status === 'paused');
    const waiting = this.#waiters.add(workflowId, done);
    const state = await this.getState(workflowId);
    if (state.status === 'idle') {
      this.#waiters.drop(workflowId);
      throw new WorkflowNotFoundError(workflowId);
    }
    if (done(state)) {
      this.#waiters.notify(workflowId, state);
      return state;
    }
    return waiting;
  }

  /**
   * Calls `listener` with every decision this runtime appends and every event it observes from
   * another process or reads back from a stream (#reloadTelling), in the order it folds them: the
   * events and the state after each, each event once. One call per decision (`/metrics` counts from
   * these; `transitions$` is the same, one event at a time).
   * Runs inside the append path: what it throws is logged, never the runtime's. Returns its removal.
   */
  onTransitions(listener: TransitionsListener): () => void {
    this.#transitionListeners.add(listener);
    return () => this.#transitionListeners.delete(listener);
  }

  #tellTransitions(workflowId: string, events: readonly WorkflowEvent[], states: readonly WorkflowState[]): void {
    for (const listener of this.#transitionListeners) {
      try {
        listener(workflowId, events, states);
      } catch (error) {
        this.#log.error({ err: error, workflowId }, 'a transitions listener failed');
      }
    }
  }

  /**
   * The workflow folded from its stream again. The events past `told` (by default, the revision
   * memory holds) reached this runtime neither as its decisions nor as deliveries (an append given up
   * but stored, a conflict, a gap, a fork adopted): its listeners hear of them here or never, since
   * their later deliveries are passed over as known.
   */
  #reloadTelling(workflowId: string, told = this.#cache.get(workflowId)?.state.revision ?? -1): Promise<CachedWorkflow> {
    return this.#cache.reload(workflowId, told, this.#transitionListeners.size === 0 ? undefined : (events, states) => this.#tellTransitions(workflowId, events, states));
  }

  /** Calls `listener` with the seconds of every store append of a decision (`/metrics`); returns its removal. */
  onAppend(listener: (seconds: number) => void): () => void {
    return this.#appender.onAppend(listener);
  }

  stats(): RuntimeStats {
    return {
      inFlight: this.#backlog.active,
      backlog: this.#backlog.waiting,
      maxInFlight: this.#backlog.limit,
      cachedWorkflows: this.#cache.size,
      timers: this.#timers.size,
      activeCalls: this.#dispatcher.active,
      decisions: this.#decisions,
      conflicts: this.#conflicts,
      bulkheads: this.#invoker.bulkheads(),
      decodedEvents: this.#follower.decoded + this.#index.decoded,
      decodedOwnEvents: this.#decodedOwn,
      appendedEvents: this.#appended,
      partitions: Object.fromEntries(this.#leases.owned()),
    };
  }

  /**
   * Drain, then stop: from now on no workflow is started and no agent call is made (decisions are
   * still stored: a scheduled step's call is left to the next runtime, which re-sends it on
   * start-up); calls in flight may finish until `timeoutMs` has passed, and their results are
   * stored. Then `stop()`: calls still running are aborted and resumed by the next runtime.
   * Resolves true when every call in flight finished in time.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#stopped) return true;
    this.#draining = true;
    const settled = await this.#dispatcher.hold(this.#now() + timeoutMs, this.#now);
    // Results that just came back are decided and stored before the stop.
    await this.#drain();
    await this.stop();
    return settled;
  }

  /**
   * Stop: no new triggers, the subscription ends, timers stop, agent calls in flight are aborted and
   * their results dropped (they are not failures: the next runtime to start re-sends them under their
   * keys, and another live runtime takes them up at their deadlines). Decisions being appended
   * finish first. See `drain` to let calls in flight finish first.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#agentWaits.stop();
    this.#timers.stop();
    clearTimeout(this.#admissionRetry);
    for (const timer of this.#inDoubt.values()) clearTimeout(timer);
    const aborted = this.#dispatcher.abortAll();
    await this.#follower.unsubscribe();
    await aborted;
    await this.#drain();
    await this.#takeovers.settled();
    this.#tracing.stop();
    // The index first, then the partitions: whoever takes them over reads next to no tail.
    await this.#follower.close();
    await this.#leases.leave();
    this.#triggers.complete();
    this.#pipeline?.unsubscribe();
  }

  // --- triggers in, decisions out -------------------------------------------------------------

  #startPipeline(): void {
    this.#pipeline = this.#triggers
      .pipe(
        groupBy((queued) => queued.workflowId, {
          // A workflow's group closes when it has nothing queued and has ended, so groups do not pile up.
          duration: (group) => {
            const closer = new Subject<void>();
            this.#groupClosers.set(group.key, closer);
            return closer;
          },
        }),
        // concatMap calls its project only when the previous trigger is done, so the promise it
        // returns starts the work then: no defer needed.
        mergeMap((group) => group.pipe(concatMap((queued) => this.#process(queued)))),
      )
      .subscribe({ error: (error: unknown) => this.#log.fatal({ err: error }, 'trigger pipeline failed') });
  }

  #enqueue(queued: QueuedTrigger): void {
    if (this.#stopped && queued.kind === 'observed') return;
    this.#pendingPerWorkflow.set(queued.workflowId, (this.#pendingPerWorkflow.get(queued.workflowId) ?? 0) + 1);
    this.#triggers.next(queued);
  }

  async #process(queued: QueuedTrigger): Promise<void> {
    try {
      // Again after the wait: the triggers that waited all resume in the same turn.
      for (let spent = this.#turns.spent(); spent; spent = this.#turns.spent()) await spent;
      if (queued.kind === 'observed') await this.#observe(queued.workflowId, queued.recorded);
      else if (queued.kind === 'takeover') await this.#takeovers.takeOver(queued.workflowId);
      else if (queued.kind === 'reload') await this.#reload(queued.workflowId, queued.start);
      else {
        const events = await this.#decideAndAppend(queued);
        queued.reply?.resolve(events);
      }
    } catch (error) {
      // Still unavailable: read back later.
      if (error instanceof UnavailableError && queued.kind === 'reload') this.#doubt(queued.workflowId, Math.min(queued.delayMs * 2, IN_DOUBT_MAX_READ_MS), queued.start);
      if (queued.kind === 'decide' && queued.reply) queued.reply.reject(error);
      else {
        this.#log.error({ err: error, workflowId: queued.workflowId }, 'trigger failed');
        // The decision was not stored (the store stayed unreachable past the append retries): the
        // state is as it was, and a timer that fired must fire again, or the workflow would wait
        // for nothing. (Other errors are not retried this way: they would only fail again.)
        const cached = this.#cache.get(queued.workflowId);
        if (error instanceof UnavailableError && cached && this.#follower.live && !this.#stopped) this.#timers.set(queued.workflowId, pendingTimers(cached.state));
      }
    } finally {
      const left = (this.#pendingPerWorkflow.get(queued.workflowId) ?? 1) - 1;
      if (left > 0) this.#pendingPerWorkflow.set(queued.workflowId, left);
      else {
        this.#pendingPerWorkflow.delete(queued.workflowId);
        if (!this.#cache.has(queued.workflowId)) this.#closeGroup(queued.workflowId);
      }
    }
  }

  #closeGroup(workflowId: string): void {
    const closer = this.#groupClosers.get(workflowId);
    if (!closer) return;
    this.#groupClosers.delete(workflowId);
    closer.next();
    closer.complete();
  }

  async #decideAndAppend(queued: Extract<QueuedTrigger, { kind: 'decide' }>): Promise<WorkflowEvent[]> {
    const { workflowId, trigger } = queued;
    /** After a conflict: the revision this runtime had folded, past which the stream has news. */
    let conflictedAt: number | undefined;
    for (let attempt = 0; ; attempt++) {
      const presumed = attempt === 0 && !this.#cache.has(workflowId) ? this.#presumedNew(workflowId, trigger) : undefined;
      const inMemory = this.#cache.get(workflowId) ?? presumed;
      const known = inMemory !== undefined;
      const cached = inMemory ?? (await (conflictedAt === undefined ? this.#cache.load(workflowId) : this.#reloadTelling(workflowId, conflictedAt)));
      // State read from the store (first sight, or a reload after a conflict) brings its own timers:
      // arm them now, even if this trigger decides nothing. Otherwise a stale timer that lost a
      // conflict would leave the workflow's real next timer (a retry another process scheduled) unarmed.
      if (!known) this.#settle(workflowId, cached);
      // A workflow another runtime owns (an operator command sent through this one) is decided with no
      // agents: what it schedules waits for its owner, which is woken by the append and calls them.
      const owned = this.#ownership.owns(workflowId, cached.state, trigger.kind === 'command' && trigger.command.type === 'start' ? { name: trigger.command.definition.name, version: trigger.command.definition.version ?? 1 } : undefined);
      // A timer, wake or resume of a workflow whose partition is not ours (any more): its owner has them.
      if (!owned && !decidedWhenNotDriven.has(trigger.kind)) {
        // Still ours, but the lease ran past its validity before a late renewal came back: decided
        // once the renewal does (otherwise the trigger is lost, and the workflow waits for nothing).
        if (cached.state.status !== 'idle' && this.#ownership.follows(workflowId, cached.state.definition)) this.#deferUntilRenewed(queued);
        return [];
      }
      const context: DecisionContext = { now: this.#now(), random: this.#random, candidates: owned ? this.#candidates : noCandidates, deciderId: this.runtimeId };
      const { events, state, states } = decideTransition(cached.state, trigger, context);
      this.#decisions++;
      if (events.length === 0) {
        // Read from the store, the workflow may wait for an agent this runtime has (another runtime
        // admitted it first without one): the events that say so are known now, and will not wake it.
        if (!known && owned && waitsForAgents(cached.state)) {
          this.#agentWaits.noteState(workflowId, cached.state);
          this.#enqueue({ kind: 'decide', workflowId, trigger: { kind: 'wake' }, causationId: cached.lastEventId });
        }
        return events;
      }
      const correlationId = cached.state.status === 'idle' ? (queued.correlationId ?? workflowId) : cached.correlationId;
      const expectedRevision = cached.state.revision < 0 ? 'no_stream' : BigInt(cached.state.revision);
      this.#cache.writing(workflowId, cached.state.revision + events.length);
      try {
        await this.#appender.append(workflowStream(workflowId), events, { correlationId, causationId: queued.causationId }, expectedRevision);
      } catch (error) {
        // Given up on an unavailable store: whether the decision was stored is not known (#doubt).
        if (error instanceof UnavailableError) this.#doubt(workflowId, IN_DOUBT_FIRST_READ_MS, trigger.kind === 'command' && trigger.command.type === 'start');
        if (error instanceof WrongExpectedVersionError && attempt < this.#maxConflictRetries) {
          // Someone else moved the workflow (or a presumed-new one exists): forget what we knew,
          // reload, decide again. What moved it is told from the reload; not for a presumed-new
          // start, whose stream was there before this trigger and holds no news of its making.
          if (!presumed) {
            this.#conflicts++;
            conflictedAt = cached.state.revision;
          }
          this.#cache.forget(workflowId);
          continue;
        }
        throw error;
      } finally {
        // Settled below in this same turn: from then on `knows` covers what was written.
        this.#cache.written(workflowId);
      }
      this.#appended += events.length;
      for (const event of events) this.#logTransition(event);
      this.#tracing.appended(workflowId, events, state);
      // Listeners get each intermediate state: decide folded them already.
      if (this.#transitionListeners.size > 0) this.#tellTransitions(workflowId, events, states);
      const next: CachedWorkflow = { ...cached, state, correlationId, lastEventId: events[events.length - 1]?.id ?? cached.lastEventId };
      this.#settle(workflowId, next, events);
      // Calls are made only while the lease is still valid (it may have run out during the append).
      if (!owned || !this.#ownership.owns(workflowId, state)) {
        // Ran out during the append, partition still held: the calls just stored are re-sent, under
        // their keys, once a renewal is (else they would wait for their step's timeout).
        if (owned && state.status !== 'idle' && this.#ownership.follows(workflowId, state.definition) && inFlightCalls(state).length > 0) {
          this.#deferUntilRenewed({ kind: 'decide', workflowId, trigger: { kind: 'resume', reason: `re-sent by runtime ${this.runtimeId} after a late lease renewal` }, causationId: next.lastEventId });
        }
        return events;
      }
      // Side effects follow durable facts: only now, and only here, are the agents called.
      for (const event of events) {
        this.#dispatcher.dispatch(workflowId, event, state);
        this.#agentWaits.note(workflowId, event);
      }
      return events;
    }
  }

  /**
   * A start of a workflow this runtime has never seen is decided on the empty state without reading
   * the stream first: the append's expected revision (no stream) is the check. If the stream does
   * exist, the append conflicts, and the retry reads it and rejects the start as the store says.
   * Saves a store read per start, which is most of what a start costs on the read side.
   */
  #presumedNew(workflowId: string, trigger: Trigger): CachedWorkflow | undefined {
    if (trigger.kind !== 'command' || trigger.command.type !== 'start' || this.#cache.knows(workflowId, 0)) return undefined;
    return { state: initialState(workflowId), correlationId: workflowId, lastEventId: '' };
  }

  /** An event from the subscription: fold it if it is news (another process appended it). */
  async #observe(workflowId: string, recorded: RecordedEvent): Promise<void> {
    const revision = Number(recorded.revision);
    if (this.#ownership.notOurs(workflowId)) return this.#observeForeign(workflowId);
    if (this.#cache.knows(workflowId, revision)) {
      this.#decodedOwn++;
      return;
    }
    const cached = this.#cache.get(workflowId) ?? (revision === 0 ? { state: initialState(workflowId), correlationId: correlationIdOf(recorded) ?? workflowId, lastEventId: '' } : undefined);
    if (cached && revision === cached.state.revision + 1) {
      const ready = definitionsReady(this.#store, recorded);
      if (ready) await ready;
      const event = fromRecorded(recorded);
      const state = evolve(cached.state, event);
      if (this.#transitionListeners.size > 0) this.#tellTransitions(workflowId, [event], [state]);
      this.#settle(workflowId, { ...cached, state, lastEventId: event.id }, [event]);
      // Another process decided something that waits for an agent (a start or an operator command
      // appended without agents): if this runtime has one, it goes on now, not at some timeout.
      if (this.#agentWaits.note(workflowId, event) && this.#ownership.owns(workflowId, state)) this.#enqueue({ kind: 'decide', workflowId, trigger: { kind: 'wake' }, causationId: event.id });
      return;
    }
    // Unknown here, or a gap: the stream is the truth.
    const loaded = await this.#reloadTelling(workflowId, cached ? cached.state.revision : revision - 1);
    this.#settle(workflowId, loaded);
    if (this.#ownership.owns(workflowId, loaded.state) && waitsForAgents(loaded.state)) this.#enqueue({ kind: 'decide', workflowId, trigger: { kind: 'wake' }, causationId: loaded.lastEventId });
  }

  /**
   * A decision's append was given up: it may have been stored without an answer. Another process
   * would tell this runtime through its subscription; its own appends it is not told of (follower.ts),
   * so it reads the stream back itself, once the store answers. (A decision on a workflow in memory
   * would also conflict at its next append and reload; a start has no next decision here, and a
   * paused workflow may wait for an operator: reading back covers both.)
   */
  #doubt(workflowId: string, delayMs: number, start: boolean): void {
    if (this.#stopped) return;
    clearTimeout(this.#inDoubt.get(workflowId));
    const timer = setTimeout(() => {
      if (!this.#stopped) this.#enqueue({ kind: 'reload', workflowId, delayMs, start });
    }, delayMs);
    timer.unref();
    this.#inDoubt.set(workflowId, timer);
  }

  /** `start`: the append given up was the workflow's start, so no call of it has been made. */
  async #reload(workflowId: string, start: boolean): Promise<void> {
    // Another runtime's workflow (an operator command sent through this one): its owner is told by its subscription.
    if (this.#ownership.notOurs(workflowId)) {
      this.#inDoubt.delete(workflowId);
      return;
    }
    const loaded = await this.#reloadTelling(workflowId);
    this.#inDoubt.delete(workflowId);
    this.#settle(workflowId, loaded);
    if (!this.#cache.has(workflowId) || !this.#ownership.owns(workflowId, loaded.state)) return;
    // A start stored unanswered: the calls it scheduled were never made. (Another decision's calls
    // may be under way here and are not sent twice; a call it scheduled waits for its timeout.)
    if (start) this.#resumeCalls(workflowId, loaded, `sent by runtime ${this.runtimeId} once its unanswered start was read back`);
    else if (waitsForAgents(loaded.state)) this.#enqueue({ kind: 'decide', workflowId, trigger: { kind: 'wake' }, causationId: loaded.lastEventId });
  }

  /**
   * Another runtime's workflow (a definition not hosted here, or a partition another runtime
   * leases) is not folded here, unless a caller here waits for it (`waitForEnd`):
   * then its state is read from the stream at each of its events, and once it has ended it is
   * forgotten like an ended workflow of our own.
   */
  async #observeForeign(workflowId: string): Promise<void> {
    if (!this.#waiters.waitsFor(workflowId)) return;
    const { state } = await this.#cache.read(workflowId);
    this.#waiters.notify(workflowId, state);
    if (state.status !== 'idle' && isTerminal(state.status)) {
      this.#ownership.forgetForeign(workflowId);
      this.#cache.ended(workflowId, state.revision);
    }
  }

  /** Events of another runtime's workflow are passed over without reading them, unless someone here waits for it. */
  #ignores(workflowId: string): boolean {
    return this.#ownership.notOurs(workflowId) && !this.#waiters.waitsFor(workflowId);
  }

  /**
   * After every state change: timers follow the state; ended workflows leave memory. `events` are
   * the events that led from the state settled last to this one, when they are known: then only
   * the timers of the steps they changed are looked at, not every step's.
   */
  #settle(workflowId: string, cached: CachedWorkflow, events?: readonly WorkflowEvent[]): void {
    const { state } = cached;
    if (state.status === 'idle') return;
    if (!this.#ownership.hosts(state)) {
      // Another runtime's workflow (its definition is not hosted here): left untouched.
      this.#cache.forget(workflowId);
      this.#ownership.markForeign(workflowId);
      this.#timers.clear(workflowId);
      this.#backlog.forget(workflowId);
    } else if (!this.#ownership.follows(workflowId, state.definition)) {
      // Of a partition another runtime leases: its owner drives it.
      this.#drop(workflowId);
    } else if (isTerminal(state.status)) {
      this.#agentWaits.forget(workflowId);
      this.#tracing.ended(workflowId, state);
      this.#timers.clear(workflowId);
      this.#cache.ended(workflowId, state.revision);
      this.#backlog.forget(workflowId);
    } else {
      this.#cache.set(workflowId, cached);
      this.#count(workflowId, state);
      if (this.#follower.live) this.#armTimers(workflowId, state, events);
    }
    this.#waiters.notify(workflowId, state);
    this.#admitQueued();
  }

  /** A workflow this runtime drives: queued, it waits its turn; admitted, it holds a slot. */
  #count(workflowId: string, state: ActiveWorkflowState): void {
    if (state.status === 'queued') this.#backlog.enqueue(workflowId, state.priority, state.startedAt);
    else this.#backlog.hold(workflowId);
  }

  /**
   * Admits queued workflows while slots are free, best first (backlog.ts): each through the
   * workflow's own trigger queue, decided on its state and appended with the expected revision. Two
   * runtimes admitting one workflow: one append conflicts, and the loser decides again and finds it
   * admitted (the `admit` trigger then decides nothing). Not while catching up or draining.
   */
  #admitQueued(): void {
    if (!this.#follower.live || this.#stopped || this.#draining || this.#takeovers.pending) return;
    for (let workflowId = this.#backlog.admitNext(); workflowId !== undefined; workflowId = this.#backlog.admitNext()) {
      const admitted = workflowId;
      this.#enqueue({
        kind: 'decide',
        workflowId: admitted,
        trigger: { kind: 'admit' },
        causationId: this.#cache.get(admitted)?.lastEventId ?? `admit:${admitted}`,
        reply: { resolve: () => undefined, reject: (error: unknown) => this.#admissionFailed(admitted, error) },
      });
    }
  }

  /**
   * The admission was not stored (the store stayed unavailable past the append retries): the
   * workflow waits in its place, and another round is tried after ADMISSION_RETRY_MS even if nothing
   * else happens meanwhile (a quiet runtime would otherwise leave it queued with a slot free).
   */
  #admissionFailed(workflowId: string, error: unknown): void {
    this.#log.error({ err: error, workflowId }, 'admission failed; the workflow stays queued');
    const state = this.#cache.get(workflowId)?.state;
    if (state?.status === 'queued') this.#backlog.requeue(workflowId, state.priority, state.startedAt);
    else if (state === undefined) this.#backlog.forget(workflowId);
    if (this.#admissionRetry === undefined && !this.#stopped) {
      this.#admissionRetry = setTimeout(() => {
        this.#admissionRetry = undefined;
        this.#admitQueued();
      }, ADMISSION_RETRY_MS);
      this.#admissionRetry.unref();
    }
  }

  #armTimers(workflowId: string, state: WorkflowState, events: readonly WorkflowEvent[] | undefined): void {
    const changed = events === undefined ? undefined : stepsChangedBy(events);
    if (changed) this.#timers.setSteps(workflowId, changed, pendingTimersOf(state, changed));
    else this.#timers.set(workflowId, pendingTimers(state));
  }

  /** Not ours to drive (any more): out of memory, no timers, out of the backlog (its owner has it). */
  #drop(workflowId: string): void {
    this.#cache.forget(workflowId);
    this.#timers.clear(workflowId);
    this.#agentWaits.forget(workflowId);
    this.#backlog.forget(workflowId);
  }

  // --- commands ----------------------------------------------------------------------------

  #command(workflowId: string, command: WorkflowCommand, correlationId?: string): Promise<WorkflowEvent[]> {
    return new Promise((resolve, reject) => {
      this.#enqueue({
        kind: 'decide',
        workflowId,
        trigger: { kind: 'command', command },
        causationId: `command:${command.type}:${randomUUID()}`,
        ...(correlationId === undefined ? {} : { correlationId }),
        reply: { resolve, reject },
      });
    });
  }

  async #existingCommand(workflowId: string, command: WorkflowCommand): Promise<WorkflowEvent[]> {
    this.#assertRunning();
    const state = await this.getState(workflowId);
    if (state.status === 'idle') throw new WorkflowNotFoundError(workflowId);
    return this.#command(workflowId, command);
  }

  #assertRunning(): void {
    if (this.#stopped) throw new Error('The saga runtime is stopped');
    if (this.#draining) throw new Error('The saga runtime is draining: it takes no new work');
  }

  // --- timers ----------------------------------------------------------------------------

  #onTimer(workflowId: string, timer: TimerRef): void {
    if (this.#stopped) return;
    // A lease that ran out drops its workflows when its renewal notices; until then, nothing fires.
    if (!this.#leases.followsAny(workflowId)) return;
    const causationId = this.#cache.get(workflowId)?.lastEventId ?? `timer:${timer.kind}`;
    this.#enqueue({ kind: 'decide', workflowId, trigger: { kind: 'timer', timer }, causationId });
  }

  // --- following the store (follower.ts) ----------------------------------------------------

  /** Catch up with the store, then arm the timers of every in-flight workflow and go live. */
  async #follow(): Promise<void> {
    const { fromIndex } = await this.#follower.catchUp();
    if (!this.#follower.live) return;
    let resumed = 0;
    for (const [workflowId, cached] of this.#cache.entries()) {
      // What is in memory once caught up is what is in flight: slots and the queue are counted from it alone.
      if (cached.state.status !== 'idle') this.#count(workflowId, cached.state);
      this.#timers.set(workflowId, pendingTimers(cached.state));
      // Calls in flight when the last runtime stopped are re-sent under their keys, not failed at their deadlines.
      if (this.#resumeCalls(workflowId, cached, `re-sent by runtime ${this.runtimeId} on start-up`)) resumed++;
    }
    this.#log.info({ inFlight: this.#cache.size, timers: this.#timers.size, resumed, queued: this.#backlog.waiting, fromIndex, partitions: Object.fromEntries(this.#leases.owned()) }, 'caught up; live');
    this.#follower.followLive();
    // Index the partitions now: whoever takes one over later reads from here, not from the start.
    void this.#follower.writeCheckpoint(true);
    // Queued workflows (in the index like any unfinished one) are admitted as far as slots allow.
    this.#admitQueued();
  }

  /**
   * A workflow this runtime just took up (start-up, takeover) that waits for agents or has calls in
   * flight: decide a `resume`, which re-sends the calls under their keys. Returns whether it did.
   */
  #resumeCalls(workflowId: string, cached: CachedWorkflow, reason: string): boolean {
    const waits = waitsForAgents(cached.state);
    if (waits) this.#agentWaits.noteState(workflowId, cached.state);
    if (!waits && inFlightCalls(cached.state).length === 0) return false;
    this.#enqueue({ kind: 'decide', workflowId, trigger: { kind: 'resume', reason }, causationId: cached.lastEventId });
    return true;
  }

  /** At start-up (no timers yet): remember an in-flight workflow, pass over an ended or foreign one. */
  #keep(workflowId: string, cached: CachedWorkflow): void {
    const { state } = cached;
    if (state.status === 'idle') return;
    if (!this.#ownership.hosts(state)) {
      this.#cache.forget(workflowId);
      this.#ownership.markForeign(workflowId);
    } else if (!this.#ownership.follows(workflowId, state.definition)) this.#cache.forget(workflowId);
    else if (isTerminal(state.status)) this.#cache.ended(workflowId, state.revision);
    else this.#cache.set(workflowId, cached);
  }

  // --- partitions (partitions.ts, partition-takeover.ts) -------------------------------------

  #deferUntilRenewed(queued: Extract<QueuedTrigger, { kind: 'decide' }>): void {
    this.#deferred.push(queued);
    this.#log.debug({ workflowId: queued.workflowId, trigger: queued.trigger.kind }, 'lease past its validity: trigger deferred until it is renewed');
  }

  /** A renewal came back: the triggers deferred meanwhile go through their workflows' queues again. */
  #renewed(): void {
    if (this.#deferred.length === 0 || this.#stopped) return;
    const deferred = this.#deferred;
    this.#deferred = [];
    for (const queued of deferred) this.#enqueue(queued);
  }

  /** The tables an indexed workflow belongs to; one queued but not in memory (definition unknown here): every table held. */
  #indexTablesOf(workflowId: string): readonly string[] {
    const cached = this.#cache.get(workflowId);
    return cached && cached.state.status !== 'idle' ? [this.#ownership.tableKey(cached.state.definition)] : [...this.#leases.owned().keys()];
  }

  // --- logging -----------------------------------------------------------------------------

  #logTransition(event: WorkflowEvent): void {
    if (!this.#log.isLevelEnabled('debug')) return;
    const data = event.data as { workflowId: string; stepId?: string; attempt?: number; agentId?: string };
    this.#log.debug({ workflowId: data.workflowId, stepId: data.stepId, attempt: data.attempt, agentId: data.agentId, event: event.type }, event.type);
  }

  async #drain(): Promise<void> {
    // Let decisions already queued finish (they are appends in progress or about to be).
    while ([...this.#pendingPerWorkflow.values()].some((n) => n > 0)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

export { CommandRejectedError };

