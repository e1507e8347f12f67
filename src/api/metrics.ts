/**
 * `/metrics` in the Prometheus text format. A fold over `$all` (workflow and agent streams) from the
 * start of the log into prom-client counters, so the numbers agree with the history whatever
 * process wrote it; labels are bounded (definition, step, agent, status: never a workflow id).
 * A scrape first waits, briefly, until the fold has reached the head of the log it saw at that
 * moment, so a scrape after a workflow ended counts it.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AGENT_STREAM_PREFIX, parseAgentEvent } from '../agents/events.js';
import { decodeWorkflowEvent, definitionsReady, WORKFLOW_STREAM_PREFIX } from '../saga/stream/index.js';
import { comparePositions, type EventStore, type Position, type RecordedEvent, type Subscription } from '../store/port.js';
import type { ProjectionLagView } from './routes/read-models.js';

const filter = { streamNamePrefix: [WORKFLOW_STREAM_PREFIX, AGENT_STREAM_PREFIX] } as const;

/** Step latencies: agents' calls run from milliseconds to minutes. */
const latencyBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const circuitValue = { AgentCircuitClosed: 0, AgentCircuitHalfOpened: 1, AgentCircuitOpened: 2 } as const;

/** Workflows still able to change: which definition they are of, and which agent each step's current attempt went to. */
interface RunInfo {
  readonly definition: string;
  readonly agents: Map<string, string>;
  /** Counted in `cadenza_workflows_in_flight`. */
  open: boolean;
}

export interface ApiMetricsOptions {
  /** Projection lag for the `cadenza_projection_lag_events` gauge, asked at each scrape. */
  readonly projectionLag?: () => Promise<readonly ProjectionLagView[]>;
  /** How long a scrape waits for the fold to reach the head. Default 2 s. */
  readonly scrapeWaitMs?: number;
}

export class ApiMetrics {
  readonly registry = new Registry();
  private readonly runs = new Map<string, RunInfo>();
  private subscription: Subscription | undefined;
  private folded: Position | undefined;
  private readonly waiters = new Set<() => void>();
  private failure: unknown;

  private readonly started = this.counter('cadenza_workflows_started_total', 'Workflows started', ['definition']);
  private readonly ended = this.counter('cadenza_workflows_ended_total', 'Workflows that reached an end status (failed and compensationFailed may later be retried or resolved)', ['definition', 'status']);
  private readonly inFlight = new Gauge({ name: 'cadenza_workflows_in_flight', help: 'Workflows started and not ended', labelNames: ['definition'], registers: [this.registry] });
  private readonly attempts = this.counter('cadenza_step_attempts_total', 'Step attempts scheduled', ['definition', 'step', 'agent']);
  private readonly failures = this.counter('cadenza_step_failures_total', 'Step attempts that failed (timeouts not included)', ['definition', 'step', 'agent']);
  private readonly timeouts = this.counter('cadenza_step_timeouts_total', 'Step attempts that timed out', ['definition', 'step', 'agent']);
  private readonly latency = new Histogram({
    name: 'cadenza_step_duration_seconds',
    help: 'Duration of successful step attempts as the agent reported it',
    labelNames: ['definition', 'step', 'agent'],
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  private readonly compensations = this.counter('cadenza_compensations_total', 'Compensation attempts scheduled', ['definition', 'step']);
  private readonly compensationFailures = this.counter('cadenza_compensation_failures_total', 'Compensation attempts that failed', ['definition', 'step']);
  private readonly circuit = new Gauge({ name: 'cadenza_agent_circuit_state', help: 'Circuit breaker per agent: 0 closed, 1 half-open, 2 open', labelNames: ['agent'], registers: [this.registry] });

  /** SSE clients dropped because they stopped reading. */
  readonly sseClientsDropped = this.counter('cadenza_sse_clients_dropped_total', 'SSE clients dropped because they stopped reading', []);

  constructor(
    private readonly store: EventStore,
    private readonly options: ApiMetricsOptions = {},
  ) {
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

  /** Start folding from the start of the log; runs until `stop`. */
  start(): void {
    const subscription = this.store.subscribeToAll({ fromPosition: 'start', filter });
    this.subscription = subscription;
    void (async () => {
      try {
        for await (const message of subscription) {
          if (message.kind === 'event') {
            // A start's definition is stored once per hash: loaded before the start is decoded.
            await definitionsReady(this.store, message.event)?.catch(() => undefined);
            this.apply(message.event);
          }
          if (message.kind === 'event' || message.kind === 'checkpoint') {
            this.folded = message.kind === 'event' ? message.event.position : message.position;
            for (const wake of this.waiters) wake();
          }
        }
      } catch (error) {
        this.failure = error;
      }
    })();
  }

  async stop(): Promise<void> {
    await this.subscription?.unsubscribe();
  }

  /** The exposition text, once the fold has reached the head (or the wait ran out). */
  async scrape(): Promise<string> {
    if (this.failure) throw this.failure;
    await this.reachHead();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async reachHead(): Promise<void> {
    let head: Position | undefined;
    for await (const event of this.store.readAll({ direction: 'backwards', fromPosition: 'end', maxCount: 1, filter })) head = event.position;
    if (head === undefined) return;
    const target = head;
    const reached = () => this.folded !== undefined && comparePositions(this.folded, target) >= 0;
    if (reached()) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const check = () => reached() && done();
      const timer = setTimeout(done, this.options.scrapeWaitMs ?? 2000);
      this.waiters.add(check);
    });
  }

  private counter(name: string, help: string, labelNames: string[]): Counter {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private apply(recorded: RecordedEvent): void {
    if (recorded.stream.startsWith(AGENT_STREAM_PREFIX)) {
      const event = parseAgentEvent(recorded);
      if (event && event.type in circuitValue) this.circuit.set({ agent: event.data.agentId }, circuitValue[event.type as keyof typeof circuitValue]);
      return;
    }
    let input;
    try {
      input = decodeWorkflowEvent(recorded);
    } catch {
      return; // An event this version cannot read: the projections record it as poison; metrics pass over it.
    }
    if (!input) return;
    const { event } = input;
    if (event.type === 'WorkflowStarted') {
      const definition = event.data.definition.name;
      this.runs.set(event.data.workflowId, { definition, agents: new Map(), open: true });
      this.started.inc({ definition });
      this.inFlight.inc({ definition });
      return;
    }
    const run = this.runs.get(event.data.workflowId);
    if (!run) return;
    const definition = run.definition;
    switch (event.type) {
      case 'StepScheduled':
        run.agents.set(event.data.stepId, event.data.agentId);
        this.attempts.inc({ definition, step: event.data.stepId, agent: event.data.agentId });
        return;
      case 'StepSucceeded':
        this.latency.observe({ definition, step: event.data.stepId, agent: event.data.agentId }, event.data.durationMs / 1000);
        return;
      case 'StepFailed':
        this.failures.inc({ definition, step: event.data.stepId, agent: event.data.agentId ?? run.agents.get(event.data.stepId) ?? '' });
        return;
      case 'StepTimedOut':
        this.timeouts.inc({ definition, step: event.data.stepId, agent: event.data.agentId });
        return;
      case 'CompensationScheduled':
        this.compensations.inc({ definition, step: event.data.stepId });
        return;
      case 'CompensationFailed':
        this.compensationFailures.inc({ definition, step: event.data.stepId });
        return;
      case 'WorkflowCompleted':
      case 'WorkflowCompensated':
      case 'WorkflowCancelled':
      case 'WorkflowResolved':
      case 'WorkflowFailed':
      case 'WorkflowCompensationFailed':
        this.ended.inc({ definition, status: endStatus[event.type] });
        if (run.open) this.inFlight.dec({ definition });
        run.open = false;
        // A failed or compensation-failed workflow stays known: an operator may still resolve it or retry its compensation.
        if (event.type !== 'WorkflowFailed' && event.type !== 'WorkflowCompensationFailed') this.runs.delete(event.data.workflowId);
        return;
      case 'CompensationRetried':
        if (!run.open) this.inFlight.inc({ definition });
        run.open = true;
        return;
      default:
        return;
    }
  }
}

const endStatus = {
  WorkflowCompleted: 'completed',
  WorkflowCompensated: 'compensated',
  WorkflowCancelled: 'cancelled',
  WorkflowResolved: 'resolved',
  WorkflowFailed: 'failed',
  WorkflowCompensationFailed: 'compensationFailed',
} as const;
