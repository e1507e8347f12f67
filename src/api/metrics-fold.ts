/**
 * The workflow and agent counters behind /metrics (metrics.ts serves them and decides how the log is
 * read). Labels are bounded (definition, step, agent, status: never a workflow id).
 *
 * Two feeds: the log (`apply`, every workflow and agent event from wherever it is read) and, with a
 * runtime in the same process, its transitions (`countTransitions`: the events it appends, already
 * decoded). Each workflow's events are counted in revision order by whichever feed brings the next
 * one first; the other passes over what is already counted (`counted` is the log's `skip`, so the
 * store does not even decode those). The log stays the whole truth: it catches up on what happened
 * before the server started, and brings what the runtime does not fold (workflows of definitions it
 * does not host, events it reads as a gap), so the counts are the same as without the runtime,
 * exactly once. Either feed may be the late one: each remembers the workflows the other has counted
 * to their end (the log's memory is bounded: a transition later than 4,096 workflows ended through
 * the log counts twice).
 *
 * `snapshot` and `restore` are a checkpoint's content: the counters and the workflows the fold still
 * knows (in flight, failed, ended ahead of the log), so a log read after the checkpoint's position
 * passes over what the snapshot counted.
 */
import { Gauge, Registry } from 'prom-client';
import { AGENT_STREAM_PREFIX, parseAgentEvent } from '../agents/events.js';
import type { WorkflowEvent } from '../saga/events.js';
import type { WorkflowState } from '../saga/state.js';
import { knownDefinition, workflowIdOf } from '../saga/stream/index.js';
import type { RecordedEvent } from '../store/port.js';
import { TalliedHistogram, TalliedNumber } from './tallies.js';

/** Step latencies: agents' calls run from milliseconds to minutes. */
const latencyBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const circuitValue = { AgentCircuitClosed: 0, AgentCircuitHalfOpened: 1, AgentCircuitOpened: 2 } as const;

/** The shape of a saved fold (FoldState): a checkpoint of another version is not used, and the log folded from its start. */
export const FOLD_VERSION = 1;

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

/** What a checkpoint holds of the fold, besides its position: all plain data. */
export interface FoldState {
  readonly tallies: Record<string, unknown>;
  readonly runs: [string, Omit<RunInfo, 'agents'> & { agents: [string, string][] }][];
  readonly endedAhead: [string, number][];
  readonly endedPassed: [string, number][];
  readonly endedInLog: [string, number][];
  readonly circuits: [string, number][];
}

export class WorkflowMetricsFold {
  /** Where the counters are registered; the server registers its own figures here too (one exposition). */
  readonly registry = new Registry();
  private readonly runs = new Map<string, RunInfo>();
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
  /** Set once the runtime's transitions are a feed (`followTransitions`): the log then remembers the workflows it ended. */
  private transitionsFeed = false;
  /** What went wrong counting a transition: the scrape's to report, never the runtime's. */
  failure: unknown;

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

  constructor() {
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
  }

  /** The runtime's transitions are a feed from now on. */
  followTransitions(): void {
    this.transitionsFeed = true;
  }

  /** A checkpoint's content: plain data. */
  snapshot(): FoldState {
    const runs = [...this.runs].map(([workflowId, run]): FoldState['runs'][number] => [workflowId, { ...run, agents: [...run.agents] }]);
    const tallies = Object.fromEntries(Object.entries(this.folds).map(([name, tally]) => [name, tally.saved()]));
    return { tallies, runs, endedAhead: [...this.endedAhead], endedPassed: [...this.endedPassed], endedInLog: [...this.endedInLog], circuits: [...this.circuits] };
  }

  restore(state: FoldState): void {
    for (const [name, tally] of Object.entries(this.folds)) (tally.restore as (saved: unknown) => void)(state.tallies[name] ?? []);
    for (const [workflowId, run] of state.runs) this.runs.set(workflowId, { ...run, agents: new Map(run.agents) });
    for (const [map, entries] of [[this.endedAhead, state.endedAhead], [this.endedPassed, state.endedPassed], [this.endedInLog, state.endedInLog], [this.circuits, state.circuits]] as const) {
      for (const [key, value] of entries) map.set(key, value);
    }
  }

  private tallied(kind: 'counter' | 'gauge', name: string, help: string, labelNames: string[]): TalliedNumber {
    return new TalliedNumber({ name, help, labelNames, registry: this.registry }, kind);
  }

  /** The log's `skip`: is this workflow event counted already (by the runtime's feed)? */
  counted(stream: string, revision: number): boolean {
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
  countTransitions(workflowId: string, events: readonly WorkflowEvent[], states: readonly WorkflowState[]): void {
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

  apply(recorded: RecordedEvent): void {
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
    if (run.queued !== undefined && (type === 'WorkflowAdmitted' || type in endStatus)) {
      this.backlog.add(-1, run.queued);
      delete run.queued;
    }
    // Each case reads only its own fields: this runs for every event, and a read of a field the
    // event type lacks is a slow lookup across every event shape.
    switch (type) {
      case 'StepScheduled': {
        const step = stepOf(data);
        const agent = typeof data.agentId === 'string' ? data.agentId : '';
        run.agents.set(step, agent);
        this.attempts.add(1, definition, step, agent);
        return;
      }
      case 'StepSucceeded': {
        const step = stepOf(data);
        if (typeof data.durationMs === 'number') this.latency.observe(data.durationMs / 1000, definition, step, agentOf(data, run, step));
        return;
      }
      case 'StepFailed': {
        const step = stepOf(data);
        this.failures.add(1, definition, step, agentOf(data, run, step));
        return;
      }
      case 'StepTimedOut': {
        const step = stepOf(data);
        this.timeouts.add(1, definition, step, agentOf(data, run, step));
        return;
      }
      case 'CompensationScheduled':
        this.compensations.add(1, definition, stepOf(data));
        return;
      case 'CompensationFailed':
        this.compensationFailures.add(1, definition, stepOf(data));
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
          else if (this.transitionsFeed) {
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

const stepOf = (data: Record<string, unknown>): string => (typeof data.stepId === 'string' ? data.stepId : '');

/** The agent an attempt's outcome names, else the one its scheduling did (an older event's outcome may not name it). */
function agentOf(data: Record<string, unknown>, run: RunInfo, step: string): string {
  return typeof data.agentId === 'string' ? data.agentId : (run.agents.get(step) ?? '');
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
