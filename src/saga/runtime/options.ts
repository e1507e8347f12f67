/**
 * What a saga runtime is configured with (`SagaRuntime.start`), what a start takes, and what it
 * reports: its stats and the transitions it emits. The runtime itself is runtime.ts.
 */
import type { Logger } from 'pino';
import type { AgentInvoker, AgentRegistry, BulkheadLimits, BulkheadSnapshot } from '../../agents/index.js';
import type { EventStore } from '../../store/port.js';
import type { WorkflowDefinition, WorkflowDefinitionInput } from '../../workflow/definition.js';
import type { WorkflowEvent } from '../events.js';
import type { WorkflowState } from '../state.js';

export interface SagaRuntimeOptions {
  readonly store: EventStore;
  readonly registry: AgentRegistry;
  /** Created over the registry when not given. */
  readonly invoker?: AgentInvoker;
  readonly bulkheads?: BulkheadLimits;
  readonly logger?: Logger;
  /** Epoch-ms clock. Default `Date.now`. */
  readonly now?: () => number;
  /** Jitter source in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /**
   * Admitted workflows this runtime drives at once (its slots). A start beyond them is stored queued
   * (durable, visible to all) and admitted, by priority then age, as slots free. Default 1000.
   */
  readonly maxInFlight?: number;
  /**
   * Work done in one turn of the event loop before triggers wait for the next, so that timers (lease
   * renewals, step timeouts) and sockets run while the runtime is busy (docs/runtime.md, "A busy
   * runtime leaves the event loop"). Default 100 ms.
   */
  readonly turnBudgetMs?: number;
  /** How many conflicting appends a trigger is decided again before it gives up. Default 20. */
  readonly maxConflictRetries?: number;
  /** This runtime's id in the ids of the events it decides. Default: a new UUID per runtime. */
  readonly runtimeId?: string;
  /** How long an append is retried while the store is unavailable. Default 30 s. */
  readonly appendRetryLimitMs?: number;
  /**
   * The definitions this runtime hosts. When given, it drives only workflows whose definition's
   * name and version are among them and leaves every other workflow in the store untouched; when
   * absent it drives every workflow it sees (one runtime alone on its store).
   */
  readonly definitions?: readonly (WorkflowDefinition | WorkflowDefinitionInput)[];
  /**
   * How often, while live, the runtime writes the index of in-flight workflows it starts from
   * (in-flight-index.ts), and it writes one when it stops. 0: never (it still starts from what
   * others wrote). Default 5 s: a restart then reads at most ~5 s of tail.
   */
  readonly checkpointIntervalMs?: number;
  /**
   * Partitions of a new partition table (docs/scaling.md, "Ownership"). Default 16; a store whose
   * table exists keeps the count it was written with (logged when it differs).
   */
  readonly partitions?: number;
  /** How long a partition lease lasts unrenewed (renewed every third of it). Default 10 s. */
  readonly leaseTtlMs?: number;
  /**
   * `worker` (default): lease a fair share of the partitions. `guest`: a short-lived tool (`cadenza
   * run`, `fork --follow`, `compensate`): take only partitions no live worker wants, and yield them
   * as soon as one is live, so a tool never takes work from running workers.
   */
  readonly leases?: 'worker' | 'guest';
  /**
   * Runtimes are interchangeable for a definition only when they can call the same agents: the
   * group (e.g. the worker's capabilities) joins the partition table's key, so workers hosting
   * different agents of one saga each drive every workflow, as before ownership, while replicas of
   * one worker share its partitions. Default: one group.
   */
  readonly ownershipGroup?: string;
}

export interface StartWorkflowOptions {
  /** Default: a random UUID. */
  readonly workflowId?: string;
  /** Default: the workflow id. */
  readonly correlationId?: string;
  /** -100..100: admission order when the workflow waits in the backlog, higher first. Default 0. */
  readonly priority?: number;
}

export interface RuntimeStats {
  /** Admitted workflows this runtime drives and that have not ended (they hold its slots). */
  readonly inFlight: number;
  /** Queued workflows this runtime owns: the ones it admits as its slots free (the whole backlog is in the store: readBacklog). */
  readonly backlog: number;
  readonly maxInFlight: number;
  /** Workflow states held in memory (in-flight workflows, whoever started them). */
  readonly cachedWorkflows: number;
  readonly timers: number;
  /** Agent calls awaiting their result. */
  readonly activeCalls: number;
  readonly decisions: number;
  readonly conflicts: number;
  readonly bulkheads: BulkheadSnapshot[];
  /**
   * Workflow events the store decoded for this runtime (subscription and takeovers). Its own
   * appends are passed over unread, except those delivered before their append returned (the
   * embedded store's writer thread commits while the runtime goes on): `decodedOwnEvents`.
   */
  readonly decodedEvents: number;
  readonly decodedOwnEvents: number;
  /** Workflow events this runtime appended. */
  readonly appendedEvents: number;
  /** Partitions leased, per table (`name@version`, or `*` for a runtime hosting every definition). */
  readonly partitions: Record<string, readonly number[]>;
}

/** A transition appended by this runtime or observed from another: what monitors and the CLI follow. */
export interface Transition {
  readonly workflowId: string;
  readonly event: WorkflowEvent;
  readonly state: WorkflowState;
}

/** One decision appended, or one event observed: its events and the state after each (`SagaRuntime.onTransitions`). */
export type TransitionsListener = (workflowId: string, events: readonly WorkflowEvent[], states: readonly WorkflowState[]) => void;


export class WorkflowNotFoundError extends Error {
  constructor(readonly workflowId: string) {
    super(`Unknown workflow "${workflowId}"`);
    this.name = 'WorkflowNotFoundError';
  }
}
