/**
 * `/metrics` in the Prometheus text format. A fold over `$all` (workflow and agent streams) from the
 * start of the log into prom-client counters, so the numbers agree with the history whatever
 * process wrote it; labels are bounded (definition, step, agent, status: never a workflow id).
 * A scrape first waits, briefly, until the fold has reached the head of the log it saw at that
 * moment, so a scrape after a workflow ended counts it. The log is folded once, from the server's
 * start on (a subscription), never again per scrape: a scrape reads only the head's position (and,
 * beside a runtime, the events between the fold's last checkpoint and the head, 64 at a time, each once).
 * With an engine in the same process (the worker) it adds that engine's live figures: its backlog,
 * its workflows in flight, its agents' calls in flight and its store appends' latency.
 *
 * With a runtime in the same process the workflow counters are fed from its transitions too, so its
 * own appends are not read back and folded a second time: each workflow's events are counted in
 * revision order by whichever feed brings the next one first (the runtime's transitions or the log),
 * the other passes over what is already counted, and the subscription tells the store to skip those
 * events unread. The log stays the whole truth: it catches up on what happened before the server
 * started, and brings what the runtime does not fold (workflows of definitions it does not host,
 * events it reads as a gap), so the counts are the same as without the runtime, exactly once. Either
 * feed may be the late one: each remembers the workflows the other has counted to their end (the
 * log's memory is bounded: a transition later than 4,096 workflows ended through the log counts twice).
 *
 * Given a checkpoint (the read-model database's, metrics-checkpoint.ts), the fold saves itself every
 * 30 s and at `stop`, and a server that starts again resumes from there instead of the start of the
 * log. A snapshot holds the counters and the workflows the fold still knows (in flight, failed, ended
 * ahead of the log), so the log read after its position passes over what the snapshot counted.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { AGENT_STREAM_PREFIX, parseAgentEvent } from '../agents/events.js';
import type { WorkflowEvent } from '../saga/events.js';
import type { WorkflowState } from '../saga/state.js';
import { definitionsReady, knownDefinition, WORKFLOW_STREAM_PREFIX, workflowIdOf } from '../saga/stream/index.js';
import { comparePositions, type EventStore, type Position, type RecordedEvent, type Subscription } from '../store/port.js';
import type { AgentCallStats, ApiRuntime } from './app.js';
import type { ProjectionLagView } from './routes/read-models.js';
import type { MetricsCheckpoint } from './metrics-checkpoint.js';
import { TalliedHistogram, TalliedNumber } from './tallies.js';

const filter = { streamNamePrefix: [WORKFLOW_STREAM_PREFIX, AGENT_STREAM_PREFIX] } as const;
const folded = (stream: string): boolean => filter.streamNamePrefix.some((prefix) => stream.startsWith(prefix));

/** Store appends: a fraction of a millisecond on the embedded store, a few on a replicated EventStoreDB; seconds mean trouble. */
const appendBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Step latencies: agents' calls run from milliseconds to minutes. */
const latencyBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const circuitValue = { AgentCircuitClosed: 0, AgentCircuitHalfOpened: 1, AgentCircuitOpened: 2 } as const;

/** The shape of a saved fold (FoldState): a checkpoint of another version is not used, and the log folded from its start. */
const foldVersion = 1;

/** Workflows still able to change: which definition they are of, and which agent each step's current attempt went to. */
interface RunInfo {
  readonly definition: string;
  readonly agents: Map<string, string>;
  /** Counted in `cadenza_workflows_in_flight`. */
  open: boolean;
  /** The revision of the last event counted: the next one counted is the one after it, from either feed. */
  revision: number;
  /** While stored queued and not admitted: its priority, counted in `cadenza_backlog_workflows`. */
  queued?: string;
}

export interface ApiMetricsOptions {
  /** Projection lag for the `cadenza_projection_lag_events` gauge, asked at each scrape. */
  readonly projectionLag?: () => Promise<readonly ProjectionLagView[]>;
  /** How long a scrape waits for the fold to reach the head. Default 2 s. */
  readonly scrapeWaitMs?: number;
  /** The runtime hosted in this process, for its live figures (backlog, in flight, append latency). */
  readonly runtime?: ApiRuntime;
  /** This process's agent calls in flight, per agent. */
  readonly agentCalls?: AgentCallStats;
  /** Where the fold is saved and resumed from (the read-model database's); without it the log is folded from its start at each start. */
  readonly checkpoint?: MetricsCheckpoint;
  /** How often the fold is saved while it runs (and once at `stop`). Default 30 s. */
  readonly checkpointEveryMs?: number;
  /** Beside a runtime: how long the log rests between two rounds of reading (a scrape starts one at once). Default 1 s. */
  readonly roundMs?: number;
}

/** What a checkpoint holds of the fold, besides its position: all plain data. */
interface FoldState {
  readonly tallies: Record<string, unknown>;
  readonly runs: [string, Omit<RunInfo, 'agents'> & { agents: [string, string][] }][];
  readonly endedAhead: [string, number][];
  readonly endedPassed: [string, number][];
  readonly endedInLog: [string, number][];
  readonly circuits: [string, number][];
}

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly runs = new Map<string, RunInfo>();
  private subscription: Subscription | undefined;
  private folded: Position | undefined;
  private readonly waiters = new Set<() => void>();
  /** The fold's loop (the log read live, or in rounds beside a runtime), until `stop`. */
  private running: Promise<void> | undefined;
  /** Scrapes waiting for the next round of reading the log (beside a runtime). */
  private roundWaiters: (() => void)[] = [];
  private failure: unknown;
  private stopTiming: (() => void) | undefined;
  /** Beside a runtime: the removal of this fold's transitions listener (undefined: the log is the only feed). */
  private stopTransitions: (() => void) | undefined;
  /**
   * Workflows ended (and forgotten from `runs`) by the runtime's feed, whose last event the log
   * has not passed yet: their events met in the log are counted already. Left when the log passes
   * the last one, so it holds only the few appends the log is behind by.
   */
  private readonly endedAhead = new Map<string, number>();
  /**
   * The latest of those the log then skipped past: the fold's position moves only at checkpoints
   * over skipped events, so a scrape looking between it and the head must still know them counted.
   */
  private readonly endedPassed = new Map<string, number>();
  /**
   * The other way round: workflows the log counted to their end (and forgotten from `runs`) whose
   * events the runtime's feed may still bring, late: another process ended one while this runtime's
   * transition of its start was still on the way, or a second runtime hosting the same definitions
   * folded another's workflow after the log had. Left when the feed brings the end; the oldest go
   * past a limit, for the workflows the runtime never folds (definitions it does not host).
   */
  private readonly endedInLog = new Map<string, number>();

  // Counted per event, so tallied as plain numbers and rendered at scrape time (tallies.ts).
  private readonly started = this.tallied('counter', 'cadenza_workflows_started_total', 'Workflows started', ['definition']);
  private readonly ended = this.tallied('counter', 'cadenza_workflows_ended_total', 'Workflows that reached an end status (failed and compensationFailed may later be retried or resolved)', ['definition', 'status']);
  private readonly inFlight = this.tallied('gauge', 'cadenza_workflows_in_flight', 'Workflows started and not ended', ['definition']);
  private readonly backlog = this.tallied('gauge', 'cadenza_backlog_workflows', "Workflows stored queued and not yet admitted, per priority: the whole store's durable backlog", ['priority']);
  private readonly attempts = this.tallied('counter', 'cadenza_step_attempts_total', 'Step attempts scheduled', ['definition', 'step', 'agent']);
  private readonly failures = this.tallied('counter', 'cadenza_step_failures_total', 'Step attempts that failed (timeouts not included)', ['definition', 'step', 'agent']);
  private readonly timeouts = this.tallied('counter', 'cadenza_step_timeouts_total', 'Step attempts that timed out', ['definition', 'step', 'agent']);
  private readonly latency = new TalliedHistogram(
    { name: 'cadenza_step_duration_seconds', help: 'Duration of successful step attempts as the agent reported it', labelNames: ['definition', 'step', 'agent'], registry: this.registry },
    latencyBuckets,
  );
  private readonly compensations = this.tallied('counter', 'cadenza_compensations_total', 'Compensation attempts scheduled', ['definition', 'step']);
  private readonly compensationFailures = this.tallied('counter', 'cadenza_compensation_failures_total', 'Compensation attempts that failed', ['definition', 'step']);
  /** Circuit state per agent, as the log last said (`cadenza_agent_circuit_state`). */
  private readonly circuits = new Map<string, number>();
  /** The fold's figures a checkpoint saves, by metric (the process's own, append latency and SSE drops, are not the log's). */
  private readonly folds = { started: this.started, ended: this.ended, inFlight: this.inFlight, backlog: this.backlog, attempts: this.attempts, failures: this.failures, timeouts: this.timeouts, latency: this.latency, compensations: this.compensations, compensationFailures: this.compensationFailures };
  private stopped = false;
  /** The id of the log's first event, once known: a checkpoint is of this store only. */
  private firstEventId: string | undefined;
  private savedAt = 0;
  private savedPosition: Position | undefined;
  /** A position up to which a round found every event counted, ahead of the log's (it skipped the last ones). */
  private covered: Position | undefined;

  /** SSE clients dropped because they stopped reading. */
  readonly sseClientsDropped = new Counter({ name: 'cadenza_sse_clients_dropped_total', help: 'SSE clients dropped because they stopped reading', registers: [this.registry] });

  constructor(
    private readonly store: EventStore,
    private readonly options: ApiMetricsOptions = {},
  ) {
    // The process's own: CPU, memory, heap, GC and event-loop lag (nodejs_eventloop_lag_seconds: a
    // runtime that keeps the loop busy delays its lease renewals and timers; docs/operations.md).
    collectDefaultMetrics({ register: this.registry });
    this.hostedFigures(options);
    const circuits = this.circuits;
    new Gauge({
      name: 'cadenza_agent_circuit_state',
      help: 'Circuit breaker per agent: 0 closed, 1 half-open, 2 open',
      labelNames: ['agent'],
      registers: [this.registry],
      collect() {
        for (const [agent, value] of circuits) this.set({ agent }, value);
      },
    });
    const lag = options.projectionLag;
    if (lag) {
      new Gauge({
        name: 'cadenza_projection_lag_events',
        help: "Events in the log after a read model's checkpoint",
        labelNames: ['projection'],
        registers: [this.registry],
        async collect() {
          for (const view of await lag()) this.set({ projection: view.projection }, view.lag);
        },
      });
    }
  }

  /** Start folding from the checkpoint, or else from the start of the log; runs until `stop`. */
  start(): void {
    const appendLatency = this.appendLatency;
    if (appendLatency) this.stopTiming = this.options.runtime?.onAppend?.((seconds) => appendLatency.observe(seconds));
    this.running = (async () => {
      try {
        const from = await this.resume();
        if (this.stopped) return;
        const runtime = this.options.runtime;
        if (!runtime?.onTransitions) return await this.readLog(from, 'live');
        this.stopTransitions = runtime.onTransitions((workflowId, events, states) => this.countTransitions(workflowId, events, states));
        // Beside a runtime the log brings only what its transitions do not, and is read in rounds: a
        // subscription woken at every commit cost the engine more than the few events it brings.
        while (!this.stopped) {
          await this.round();
          await this.rest();
        }
      } catch (error) {
        this.failure = error;
        for (const done of this.roundWaiters.splice(0)) done();
      }
    })();
  }

  /**
   * One round of reading the log beside a runtime: from the fold to the head as it was when the round
   * began. Every event up to that head is then counted (read now, or skipped as counted by the
   * runtime's transitions), so the scrapes that asked for the round may answer.
   */
  private async round(last = false): Promise<void> {
    const asked = this.roundWaiters.splice(0);
    const head = await this.newestFolded();
    // Stopping: the last round is stop's own, once this loop has ended.
    if (this.stopped && !last) return asked.forEach((done) => done());
    await this.readLog(this.folded ?? 'start', 'caughtUp');
    if (head !== undefined && (this.covered === undefined || comparePositions(head, this.covered) > 0)) this.covered = head;
    for (const done of asked) done();
  }

  /** Between two rounds: `roundMs`, cut short by a scrape (or `stop`). */
  private rest(): Promise<void> {
    if (this.roundWaiters.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.readNow(), this.options.roundMs ?? 1000);
      this.readNow = () => {
        clearTimeout(timer);
        this.readNow = () => undefined;
        resolve();
      };
    });
  }

  /** Ends the rest between two rounds; nothing while a round runs (a scrape then waits for the next one). */
  private readNow: () => void = () => undefined;

  /**
   * Folds the log from `from`: live until `stop`, or until caught up (a round beside a runtime,
   * which tells the store to skip unread what the runtime's transitions counted).
   */
  private async readLog(from: Position | 'start', until: 'live' | 'caughtUp'): Promise<void> {
    const subscription = this.store.subscribeToAll({
      fromPosition: from,
      filter,
      ...(this.stopTransitions ? { skip: (stream: string, revision: bigint) => this.counted(stream, Number(revision)) } : {}),
    });
    this.subscription = subscription;
    try {
      for await (const message of subscription) {
        if (message.kind === 'caughtUp' && until === 'caughtUp') break;
        if (message.kind === 'event') {
          // A start's definition is stored once per hash: loaded before the start is decoded.
          await definitionsReady(this.store, message.event)?.catch(() => undefined);
          this.apply(message.event);
        }
        if (message.kind === 'event' || message.kind === 'checkpoint') {
          this.folded = message.kind === 'event' ? message.event.position : message.position;
          for (const wake of this.waiters) wake();
          if (this.options.checkpoint && performance.now() - this.savedAt >= (this.options.checkpointEveryMs ?? 30_000)) this.save();
        }
      }
    } finally {
      await subscription.unsubscribe();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopTiming?.();
    this.stopTransitions?.();
    this.readNow();
    await this.subscription?.unsubscribe();
    await this.running;
    // Nothing counts any more: what the fold holds is the snapshot of its position, or, beside a
    // runtime, of the head after one last round (what the runtime counted, the log skipped).
    if (this.options.checkpoint && this.failure === undefined && this.folded !== undefined) {
      try {
        if (this.firstEventId === undefined) await this.readFirstEventId();
        if (this.stopTransitions) await this.round(true);
        this.save();
      } catch {
        // A store closed first, a read-model database gone: the last periodic save stands, and the
        // next start folds on from there.
      }
    }
  }

  /**
   * Where the fold starts: after the checkpoint's position, its counts restored, when there is one of
   * this store and this shape; else the start of the log. Knows the log's first event either way.
   */
  private async resume(): Promise<'start' | Position> {
    await this.readFirstEventId();
    const saved = this.options.checkpoint?.load();
    if (!saved || saved.version !== foldVersion || saved.firstEventId !== this.firstEventId) return 'start';
    this.restore(saved.state as FoldState);
    this.folded = this.savedPosition = saved.position;
    return saved.position;
  }

  private async readFirstEventId(): Promise<void> {
    for await (const first of this.store.readAll({ maxCount: 1 })) this.firstEventId = first.id;
  }

  /** Save the fold at its position (synchronous, so no event counts in between). */
  private save(): void {
    this.savedAt = performance.now();
    const position = this.covered && this.folded && comparePositions(this.covered, this.folded) > 0 ? this.covered : this.folded;
    // A log that was empty at the start: its first event is read now, for the next save.
    if (this.firstEventId === undefined && !this.stopped) void this.readFirstEventId().catch(() => undefined);
    if (position === undefined || this.firstEventId === undefined) return;
    if (this.savedPosition && comparePositions(position, this.savedPosition) <= 0) return;
    const runs = [...this.runs].map(([workflowId, run]): FoldState['runs'][number] => [workflowId, { ...run, agents: [...run.agents] }]);
    const tallies = Object.fromEntries(Object.entries(this.folds).map(([name, tally]) => [name, tally.saved()]));
    const state: FoldState = { tallies, runs, endedAhead: [...this.endedAhead], endedPassed: [...this.endedPassed], endedInLog: [...this.endedInLog], circuits: [...this.circuits] };
    this.options.checkpoint!.save({ version: foldVersion, position, firstEventId: this.firstEventId, state });
    this.savedPosition = position;
  }

  private restore(state: FoldState): void {
    for (const [name, tally] of Object.entries(this.folds)) (tally.restore as (saved: unknown) => void)(state.tallies[name] ?? []);
    for (const [workflowId, run] of state.runs) this.runs.set(workflowId, { ...run, agents: new Map(run.agents) });
    for (const [map, entries] of [[this.endedAhead, state.endedAhead], [this.endedPassed, state.endedPassed], [this.endedInLog, state.endedInLog], [this.circuits, state.circuits]] as const) {
      for (const [key, value] of entries) map.set(key, value);
    }
  }

  /** The exposition text, once the fold has reached the head (or the wait ran out). */
  async scrape(): Promise<string> {
    if (this.failure) throw this.failure;
    await this.reachHead();
    if (this.failure) throw this.failure;
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Waits (at most `scrapeWaitMs`) until every event up to the head of the log, as of now, is counted. */
  private async reachHead(): Promise<void> {
    let done: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (done = resolve));
    const timer = setTimeout(done, this.options.scrapeWaitMs ?? 2000);
    if (this.stopTransitions) {
      // Beside a runtime: the next round, begun after this call, reads to the head as it is then.
      this.roundWaiters.push(done);
      this.readNow();
    } else {
      const head = await this.newestFolded();
      const passed = () => head === undefined || (this.folded !== undefined && comparePositions(this.folded, head) >= 0);
      const check = () => passed() && done();
      this.waiters.add(check);
      void reached.then(() => this.waiters.delete(check));
      check();
    }
    await reached;
    clearTimeout(timer);
  }

  private appendLatency: TalliedHistogram | undefined;

  /** Gauges read from the hosted runtime and agents at each scrape; the append histogram fed as appends happen. */
  private hostedFigures({ runtime, agentCalls }: ApiMetricsOptions): void {
    const stats = runtime?.stats?.bind(runtime);
    if (stats) {
      const gauge = (name: string, help: string, read: (figures: ReturnType<NonNullable<ApiRuntime['stats']>>) => number) =>
        new Gauge({ name, help, registers: [this.registry], collect() { this.set(read(stats())); } });
      gauge('cadenza_runtime_workflows_in_flight', 'Admitted workflows the runtime in this process drives and that have not ended (each holds one of its maxInFlight slots)', (f) => f.inFlight);
      gauge('cadenza_runtime_workflows_max_in_flight', "The runtime's maxInFlight: starts beyond it are stored queued, admitted as slots free", (f) => f.maxInFlight);
      gauge('cadenza_runtime_partitions_owned', 'Partitions the runtime in this process holds leases on, over all its partition tables (docs/scaling.md): 0 while it drives nothing', (f) => Object.values(f.partitions).reduce((sum, owned) => sum + owned.length, 0));
      gauge('cadenza_runtime_backlog_workflows', 'Queued workflows the runtime in this process owns and admits as its slots free (the whole backlog: cadenza_backlog_workflows)', (f) => f.backlog);
    }
    if (runtime?.onAppend) {
      this.appendLatency = new TalliedHistogram({ name: 'cadenza_store_append_seconds', help: "Latency of the store appends of the runtime's decisions in this process", labelNames: [], registry: this.registry }, appendBuckets);
    }
    if (agentCalls) {
      new Gauge({
        name: 'cadenza_agent_calls_in_flight',
        help: 'Agent calls in flight from this process, per agent',
        labelNames: ['agent'],
        registers: [this.registry],
        collect() {
          for (const { agentId, inFlight } of agentCalls.all()) this.set({ agent: agentId }, inFlight);
        },
      });
    }
  }

  private tallied(kind: 'counter' | 'gauge', name: string, help: string, labelNames: string[]): TalliedNumber {
    return new TalliedNumber({ name, help, labelNames, registry: this.registry }, kind);
  }

  /** The position of the newest event the fold follows: among the newest few of the log, else by a filtered read however far back. */
  private async newestFolded(): Promise<Position | undefined> {
    for await (const event of this.store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 16 })) if (folded(event.stream)) return event.position;
    for await (const event of this.store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1, filter })) return event.position;
    return undefined;
  }

  /** The log's `skip`: is this workflow event counted already (by the runtime's feed)? */
  private counted(stream: string, revision: number): boolean {
    const workflowId = workflowIdOf(stream);
    if (workflowId === undefined) return false;
    // A workflow still known is in none of the memories of ended ones (count): one lookup for most events.
    const run = this.runs.get(workflowId);
    if (run !== undefined) return revision <= run.revision;
    const ended = this.endedAhead.get(workflowId);
    if (ended !== undefined && revision <= ended) {
      if (revision === ended) {
        this.endedAhead.delete(workflowId);
        this.endedPassed.set(workflowId, ended);
        // A checkpoint comes every 32 positions: far fewer than this are ever between the fold and the head.
        forgetOldest(this.endedPassed, 1024);
      }
      return true;
    }
    const passed = this.endedPassed.get(workflowId);
    return passed !== undefined && revision <= passed;
  }

  /** Is this event of an ended workflow counted already, by the other feed or before a checkpoint? Forgets what neither feed will bring again. */
  private endedBefore(workflowId: string, revision: number, fromLog: boolean): boolean {
    const endedAhead = this.endedAhead.get(workflowId);
    if (endedAhead !== undefined && revision <= endedAhead) {
      if (fromLog && revision === endedAhead) this.endedAhead.delete(workflowId);
      return true;
    }
    // Passed over by the log already; met again only by a fold resumed from a checkpoint before them.
    const passed = this.endedPassed.get(workflowId);
    if (passed !== undefined && revision <= passed) return true;
    const endedInLog = fromLog ? undefined : this.endedInLog.get(workflowId);
    if (endedInLog !== undefined && revision <= endedInLog) {
      if (revision === endedInLog) this.endedInLog.delete(workflowId);
      return true;
    }
    return false;
  }

  /** One decision of the runtime. Runs inside its append path: a failure here is the scrape's to report, never the runtime's. */
  private countTransitions(workflowId: string, events: readonly WorkflowEvent[], states: readonly WorkflowState[]): void {
    try {
      for (let i = 0; i < events.length; i++) {
        const event = events[i] as WorkflowEvent;
        const state = states[i] as WorkflowState;
        const definition = event.type === 'WorkflowStarted' && state.status !== 'idle' ? state.definition.name : undefined;
        this.count(workflowId, state.revision, event.type, event.data as unknown as Record<string, unknown>, definition, false);
      }
    } catch (error) {
      this.failure = error;
    }
  }

  private apply(recorded: RecordedEvent): void {
    if (recorded.stream.startsWith(AGENT_STREAM_PREFIX)) {
      const event = parseAgentEvent(recorded);
      if (event && event.type in circuitValue) this.circuits.set(event.data.agentId, circuitValue[event.type as keyof typeof circuitValue]);
      return;
    }
    // The few fields counted here, read as stored rather than through the full event parse: that
    // parse validates the definition snapshot of every start, and cost the engine's process more
    // than a step's own work when the worker serves /metrics. Every field read is in every schema
    // version; an event without them is passed over, as the projections' poison is.
    const data = recorded.data as Record<string, unknown> | null;
    const workflowId = typeof data?.workflowId === 'string' ? data.workflowId : undefined;
    if (!data || workflowId === undefined) return;
    let definition: unknown;
    if (recorded.type === 'WorkflowStarted') {
      // Inline in a version 1 start; since version 2 a reference to the definition stored once per
      // hash, which definitionsReady (above) has loaded.
      const inline = (data.definition as { name?: unknown } | undefined)?.name;
      definition = inline ?? (typeof data.definitionHash === 'string' ? knownDefinition(data.definitionHash)?.name : undefined);
    }
    this.count(workflowId, Number(recorded.revision), recorded.type, data, typeof definition === 'string' ? definition : undefined, true);
  }

  /**
   * One workflow event into the counters, unless the other feed counted it already. `startedAs`: a
   * start's definition name (read as stored from the log, from the state from the runtime).
   */
  private count(workflowId: string, revision: number, type: string, data: Record<string, unknown>, startedAs: string | undefined, fromLog: boolean): void {
    const run = this.runs.get(workflowId);
    // A workflow leaves `runs` before it enters a memory of ended ones, and only a start (which those
    // memories stop) brings it back: a known workflow is in none of them, one lookup for most events.
    if (run) {
      if (revision <= run.revision) return;
    } else if (this.endedBefore(workflowId, revision, fromLog)) return;
    if (type === 'WorkflowStarted') {
      if (startedAs === undefined) return;
      const queued = data.queued === true ? String(typeof data.priority === 'number' ? data.priority : 0) : undefined;
      this.runs.set(workflowId, { definition: startedAs, agents: new Map(), open: true, revision, ...(queued === undefined ? {} : { queued }) });
      this.started.add(1, startedAs);
      this.inFlight.add(1, startedAs);
      if (queued !== undefined) this.backlog.add(1, queued);
      return;
    }
    if (!run) return;
    // The runtime passes over events it reads as a gap: the log brings those, then the rest in order.
    if (!fromLog && revision !== run.revision + 1) return;
    run.revision = revision;
    const definition = run.definition;
    const step = typeof data.stepId === 'string' ? data.stepId : '';
    const agent = typeof data.agentId === 'string' ? data.agentId : undefined;
    if (run.queued !== undefined && (type === 'WorkflowAdmitted' || type in endStatus)) {
      this.backlog.add(-1, run.queued);
      delete run.queued;
    }
    switch (type) {
      case 'StepScheduled':
        run.agents.set(step, agent ?? '');
        this.attempts.add(1, definition, step, agent ?? '');
        return;
      case 'StepSucceeded':
        if (typeof data.durationMs === 'number') this.latency.observe(data.durationMs / 1000, definition, step, agent ?? run.agents.get(step) ?? '');
        return;
      case 'StepFailed':
        this.failures.add(1, definition, step, agent ?? run.agents.get(step) ?? '');
        return;
      case 'StepTimedOut':
        this.timeouts.add(1, definition, step, agent ?? run.agents.get(step) ?? '');
        return;
      case 'CompensationScheduled':
        this.compensations.add(1, definition, step);
        return;
      case 'CompensationFailed':
        this.compensationFailures.add(1, definition, step);
        return;
      case 'WorkflowCompleted':
      case 'WorkflowCompensated':
      case 'WorkflowCancelled':
      case 'WorkflowResolved':
      case 'WorkflowFailed':
      case 'WorkflowCompensationFailed':
        this.ended.add(1, definition, endStatus[type]);
        if (run.open) this.inFlight.add(-1, definition);
        run.open = false;
        // A failed or compensation-failed workflow stays known: an operator may still resolve it or retry its compensation.
        if (type !== 'WorkflowFailed' && type !== 'WorkflowCompensationFailed') {
          this.runs.delete(workflowId);
          if (!fromLog) this.endedAhead.set(workflowId, revision);
          else if (this.stopTransitions) {
            this.endedInLog.set(workflowId, revision);
            forgetOldest(this.endedInLog, 4096);
          }
        }
        return;
      case 'CompensationRetried':
        if (!run.open) this.inFlight.add(1, definition);
        run.open = true;
        return;
      default:
        return;
    }
  }
}

/** Bounds a memory of ended workflows: the oldest entry goes once `limit` is passed. */
function forgetOldest(map: Map<string, number>, limit: number): void {
  if (map.size > limit) map.delete(map.keys().next().value as string);
}

const endStatus = {
  WorkflowCompleted: 'completed',
  WorkflowCompensated: 'compensated',
  WorkflowCancelled: 'cancelled',
  WorkflowResolved: 'resolved',
  WorkflowFailed: 'failed',
  WorkflowCompensationFailed: 'compensationFailed',
} as const;
