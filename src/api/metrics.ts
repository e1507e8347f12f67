/**
 * `/metrics` in the Prometheus text format: the counters of the workflow and agent events
 * (metrics-fold.ts), fed from `$all` (workflow and agent streams) from the start of the log, so the
 * numbers agree with the history whatever process wrote it; with an engine in the same process, also
 * its live figures (backlog, workflows and agent calls in flight, store append latency) and its
 * transitions as a second feed; and the process's own figures (prom-client's defaults).
 * A scrape first waits, briefly, until every event up to the head of the log it saw at that moment
 * is counted, so a scrape after a workflow ended counts it. The log is read once, from the server's
 * start on, never again per scrape: alone, by a subscription that follows it live; beside a runtime,
 * in rounds (every `roundMs`, and at once for a scrape) that skip unread what the transitions
 * counted.
 *
 * Given a checkpoint (the read-model database's, metrics-checkpoint.ts), the fold saves itself every
 * 30 s and at `stop`, and a server that starts again resumes from there instead of the start of the
 * log.
 */
import { Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import { AGENT_STREAM_PREFIX } from '../agents/events.js';
import { definitionsReady, WORKFLOW_STREAM_PREFIX } from '../saga/stream/index.js';
import { comparePositions, type EventStore, type Position, type Subscription } from '../store/port.js';
import type { AgentCallStats, ApiRuntime } from './app.js';
import type { ProjectionLagView } from './routes/read-models.js';
import type { MetricsCheckpoint } from './metrics-checkpoint.js';
import { FOLD_VERSION, WorkflowMetricsFold, type FoldState } from './metrics-fold.js';
import { TalliedHistogram } from './tallies.js';

const filter = { streamNamePrefix: [WORKFLOW_STREAM_PREFIX, AGENT_STREAM_PREFIX] } as const;
const folded = (stream: string): boolean => filter.streamNamePrefix.some((prefix) => stream.startsWith(prefix));

/** Store appends: a fraction of a millisecond on the embedded store, a few on a replicated EventStoreDB; seconds mean trouble. */
const appendBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];



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


export class ApiMetrics {
  private readonly fold = new WorkflowMetricsFold();
  readonly registry = this.fold.registry;
  private subscription: Subscription | undefined;
  private folded: Position | undefined;
  /** Scrapes waiting for the live subscription (no runtime beside) to pass the head they saw. */
  private readonly liveWaiters = new Set<() => void>();
  /** The fold's loop (the log read live, or in rounds beside a runtime), until `stop`. */
  private running: Promise<void> | undefined;
  /** Scrapes waiting for the next round of reading the log (beside a runtime). */
  private roundWaiters: (() => void)[] = [];
  /** What stopped the fold reading the log; the fold's own (a transition it could not count) is `fold.failure`. */
  private failure: unknown;
  private stopTiming: (() => void) | undefined;
  /** Beside a runtime: the removal of this fold's transitions listener (undefined: the log is the only feed). */
  private stopTransitions: (() => void) | undefined;
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
        this.fold.followTransitions();
        this.stopTransitions = runtime.onTransitions((workflowId, events, states) => this.fold.countTransitions(workflowId, events, states));
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
      ...(this.stopTransitions ? { skip: (stream: string, revision: bigint) => this.fold.counted(stream, Number(revision)) } : {}),
    });
    this.subscription = subscription;
    try {
      for await (const message of subscription) {
        if (message.kind === 'caughtUp' && until === 'caughtUp') break;
        if (message.kind === 'event') {
          // A start's definition is stored once per hash: loaded before the start is decoded.
          await definitionsReady(this.store, message.event)?.catch(() => undefined);
          this.fold.apply(message.event);
        }
        if (message.kind === 'event' || message.kind === 'checkpoint') {
          this.folded = message.kind === 'event' ? message.event.position : message.position;
          if (until === 'live') for (const wake of this.liveWaiters) wake();
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
    if (this.options.checkpoint && this.failed() === undefined && this.folded !== undefined) {
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
    if (!saved || saved.version !== FOLD_VERSION || saved.firstEventId !== this.firstEventId) return 'start';
    this.fold.restore(saved.state as FoldState);
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
    this.options.checkpoint!.save({ version: FOLD_VERSION, position, firstEventId: this.firstEventId, state: this.fold.snapshot() });
    this.savedPosition = position;
  }


  /** The exposition text, once the fold has reached the head (or the wait ran out). */
  async scrape(): Promise<string> {
    if (this.failed()) throw this.failed();
    await this.reachHead();
    if (this.failed()) throw this.failed();
    return this.registry.metrics();
  }

  private failed(): unknown {
    return this.failure ?? this.fold.failure;
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
      this.liveWaiters.add(check);
      void reached.then(() => this.liveWaiters.delete(check));
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


  /** The position of the newest event the fold follows: among the newest few of the log, else by a filtered read however far back. */
  private async newestFolded(): Promise<Position | undefined> {
    for await (const event of this.store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 16 })) if (folded(event.stream)) return event.position;
    for await (const event of this.store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1, filter })) return event.position;
    return undefined;
  }

}


