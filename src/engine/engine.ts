/**
 * The engine facade: a store, an agent registry with the caller's agents, and a saga runtime that
 * hosts the caller's definitions, in one object with the operations a user needs (start, wait,
 * cancel, retry, compensate, resolve, status, history, replay, stop). The CLI, the worker and embedding
 * applications all wire the engine here, so there is one wiring.
 */
import pino, { type Logger } from 'pino';
import { AgentRegistry, type AgentDefinition, type BulkheadLimits } from '../agents/index.js';
import { correlationIdOf, definitionsReady, replayWorkflow } from '../saga/stream/index.js';
import type { WorkflowEvent } from '../saga/events.js';
import { SagaRuntime, WorkflowNotFoundError, fromRecorded, workflowStream, type StartWorkflowOptions } from '../saga/runtime/index.js';
import type { ActiveWorkflowState, WorkflowState } from '../saga/state.js';
import { statusView, type WorkflowStatusView } from '../saga/status-view.js';
import { StreamNotFoundError } from '../store/errors.js';
import { openStore } from '../store/open.js';
import { metadataObject, type EventStore, type JsonObject } from '../store/port.js';
import type { WorkflowDefinition, WorkflowDefinitionInput } from '../workflow/definition.js';
import type { Json } from '../workflow/json.js';
import { validateDefinition } from '../workflow/validate.js';

export interface EngineOptions {
  /**
   * The event store, or a store URI for `openStore` (`sqlite:<path>`, `memory:`, `esdb://…`).
   * Default: `CADENZA_STORE`, else `sqlite:./.cadenza/cadenza.db`. A store the engine opened is
   * closed by `stop()`; a store passed in stays the caller's to close.
   */
  readonly store?: EventStore | string;
  /**
   * The definitions this engine hosts: `start` finds them by name, and the runtime drives only
   * their workflows. Absent: any definition may be started, and the runtime drives every workflow
   * it sees (one engine alone on its store).
   */
  readonly definitions?: readonly (WorkflowDefinition | WorkflowDefinitionInput)[];
  /** Registered (in the store's `agent-<id>` streams) when the engine starts. */
  readonly agents?: readonly AgentDefinition[];
  /** Default: silent. */
  readonly logger?: Logger;
  /** Workflows started here and in flight at once; further starts wait. Default 1000. */
  readonly maxInFlight?: number;
  readonly bulkheads?: BulkheadLimits;
  /**
   * `worker` (default): the runtime leases a fair share of the workflow partitions. `guest`: a
   * short-lived tool's engine takes only partitions no live worker holds, and yields them as soon as
   * one is live (docs/scaling.md, "Ownership").
   */
  readonly leases?: 'worker' | 'guest';
  /** Engines that can call different agents lease separately (SagaRuntimeOptions.ownershipGroup). */
  readonly ownershipGroup?: string;
}

/** A hosted definition asked for by a name (or `name@version`) the engine does not host. */
export class UnknownDefinitionError extends Error {
  constructor(
    readonly requested: string,
    readonly hosted: readonly string[],
  ) {
    super(`Unknown workflow definition "${requested}" (hosted: ${hosted.length > 0 ? hosted.join(', ') : 'none'})`);
    this.name = 'UnknownDefinitionError';
  }
}

/** One stored event of a workflow, decoded. */
export interface HistoryEntry {
  /** Its position in the workflow's stream, from 0. */
  readonly revision: bigint;
  readonly created: Date;
  readonly event: WorkflowEvent;
  /** Correlation, causation, definition hash, schema version. */
  readonly metadata: JsonObject;
}

export interface ReplayOptions {
  /** Stop after this revision (inclusive), or after the last event recorded at or before this time. Default: the whole history. */
  readonly until?: number | bigint | Date;
}

export interface ReplayResult {
  readonly state: ActiveWorkflowState;
  /** Events folded. */
  readonly events: number;
}

export interface StopOptions {
  /**
   * How long to wait for agent calls in flight before stopping (their results are then stored).
   * Starts are refused from the moment stop is called. Calls still running at the deadline are
   * abandoned and picked up by the next engine when their deadlines pass. Default 0.
   */
  readonly drainMs?: number;
}

export interface Engine {
  readonly store: EventStore;
  readonly registry: AgentRegistry;
  readonly runtime: SagaRuntime;
  /** The hosted definitions, validated (every default filled in). */
  readonly definitions: readonly WorkflowDefinition[];
  /**
   * Start a workflow of a hosted definition, by name (its newest version) or `name@version`, or of
   * a definition given here. Resolves once WorkflowStarted is stored.
   */
  start(workflow: string | WorkflowDefinition | WorkflowDefinitionInput, input: Json, options?: StartWorkflowOptions): Promise<{ workflowId: string }>;
  /** Resolves with the state once the workflow has ended (or, with `orPaused`, paused for an operator). */
  wait(workflowId: string, options?: { orPaused?: boolean }): Promise<ActiveWorkflowState>;
  cancel(workflowId: string, reason?: string): Promise<WorkflowEvent[]>;
  retry(workflowId: string): Promise<WorkflowEvent[]>;
  /** Roll back a running or paused workflow; on a failed compensation, retry what failed. */
  compensate(workflowId: string, reason?: string): Promise<WorkflowEvent[]>;
  /** Record a manual resolution of a failed compensation, with the operator's note. */
  resolve(workflowId: string, note: string): Promise<WorkflowEvent[]>;
  /** The monitoring view (what `cadenza status` prints). */
  status(workflowId: string): Promise<WorkflowStatusView>;
  /** The workflow's events in order, read as a stream. */
  history(workflowId: string): AsyncIterable<HistoryEntry>;
  /** The workflow's state at a point of its history. */
  replay(workflowId: string, options?: ReplayOptions): Promise<ReplayResult>;
  stop(options?: StopOptions): Promise<void>;
}

export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const definitions = (options.definitions ?? []).map((definition) => validateDefinition(definition));
  const ownsStore = typeof options.store !== 'object';
  const store = typeof options.store === 'object' ? options.store : await openStore(options.store);
  const logger = options.logger ?? pino({ level: 'silent' });
  let registry: AgentRegistry | undefined;
  try {
    registry = await AgentRegistry.open({ store, logger: logger.child({ component: 'agents' }) });
    for (const agent of options.agents ?? []) await registry.register(agent);
    const runtime = await SagaRuntime.start({
      store,
      registry,
      logger: logger.child({ component: 'saga' }),
      ...(options.definitions === undefined ? {} : { definitions }),
      ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
      ...(options.bulkheads === undefined ? {} : { bulkheads: options.bulkheads }),
      ...(options.leases === undefined ? {} : { leases: options.leases }),
      ...(options.ownershipGroup === undefined ? {} : { ownershipGroup: options.ownershipGroup }),
    });
    return new CadenzaEngine(store, ownsStore, registry, runtime, definitions, options.definitions !== undefined);
  } catch (error) {
    await registry?.close();
    if (ownsStore) await store.close();
    throw error;
  }
}

class CadenzaEngine implements Engine {
  #stopping: Promise<void> | undefined;

  constructor(
    readonly store: EventStore,
    private readonly ownsStore: boolean,
    readonly registry: AgentRegistry,
    readonly runtime: SagaRuntime,
    readonly definitions: readonly WorkflowDefinition[],
    private readonly hostsOnly: boolean,
  ) {}

  start(workflow: string | WorkflowDefinition | WorkflowDefinitionInput, input: Json, options: StartWorkflowOptions = {}): Promise<{ workflowId: string }> {
    if (this.#stopping) return Promise.reject(new Error('The engine is stopping: it starts no new workflows'));
    try {
      return this.runtime.startWorkflow(this.#resolve(workflow), input, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  wait(workflowId: string, options: { orPaused?: boolean } = {}): Promise<ActiveWorkflowState> {
    return this.runtime.waitForEnd(workflowId, options);
  }

  cancel(workflowId: string, reason?: string): Promise<WorkflowEvent[]> {
    return this.runtime.cancel(workflowId, reason);
  }

  retry(workflowId: string): Promise<WorkflowEvent[]> {
    return this.runtime.retry(workflowId);
  }

  resolve(workflowId: string, note: string): Promise<WorkflowEvent[]> {
    return this.runtime.resolve(workflowId, note);
  }

  compensate(workflowId: string, reason?: string): Promise<WorkflowEvent[]> {
    return this.runtime.compensate(workflowId, reason);
  }

  async status(workflowId: string): Promise<WorkflowStatusView> {
    const view = statusView(await this.runtime.getState(workflowId), Date.now());
    if (!view) throw new WorkflowNotFoundError(workflowId);
    return view;
  }

  async *history(workflowId: string): AsyncGenerator<HistoryEntry> {
    try {
      for await (const recorded of this.store.readStream(workflowStream(workflowId))) {
        await definitionsReady(this.store, recorded);
        // The correlation is not stored when it is the workflow id: given here either way.
        yield { revision: recorded.revision, created: recorded.created, event: fromRecorded(recorded), metadata: { ...metadataObject(recorded.metadata), correlationId: correlationIdOf(recorded) ?? workflowId } };
      }
    } catch (error) {
      throw error instanceof StreamNotFoundError ? new WorkflowNotFoundError(workflowId) : error;
    }
  }

  async replay(workflowId: string, options: ReplayOptions = {}): Promise<ReplayResult> {
    const { until } = options;
    let result: { state: WorkflowState; events: number };
    try {
      result = await replayWorkflow(this.store, workflowId, until === undefined ? undefined : until instanceof Date ? { time: until } : { revision: BigInt(until) });
    } catch (error) {
      throw error instanceof StreamNotFoundError ? new WorkflowNotFoundError(workflowId) : error;
    }
    if (result.state.status === 'idle') throw new WorkflowNotFoundError(workflowId);
    return { state: result.state, events: result.events };
  }

  stop(options: StopOptions = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.drainMs ?? 0);
    return this.#stopping;
  }

  async #stop(drainMs: number): Promise<void> {
    await this.runtime.drain(drainMs);
    await this.registry.close();
    if (this.ownsStore) await this.store.close();
  }

  /** The definition to start: a hosted one by name, or the one given (which must be hosted, when the engine hosts a set). */
  #resolve(workflow: string | WorkflowDefinition | WorkflowDefinitionInput): WorkflowDefinition {
    if (typeof workflow === 'string') return this.#byName(workflow);
    const definition = validateDefinition(workflow);
    if (this.hostsOnly && !this.definitions.some((hosted) => hosted.name === definition.name && hosted.version === definition.version)) {
      // The runtime would not drive it: refuse now rather than leave a workflow no one runs.
      throw new UnknownDefinitionError(`${definition.name}@${definition.version}`, this.#hostedNames());
    }
    return definition;
  }

  #byName(requested: string): WorkflowDefinition {
    return hostedDefinition(this.definitions, requested);
  }

  #hostedNames(): string[] {
    return this.definitions.map((definition) => `${definition.name}@${definition.version}`);
  }
}

/**
 * The hosted definition a name (its newest version) or `name@version` asks for; UnknownDefinitionError
 * when none is. What `engine.start` and the API's `/definitions` and starts resolve names with.
 */
export function hostedDefinition(definitions: readonly WorkflowDefinition[], requested: string): WorkflowDefinition {
  const versioned = /^(.+)@(\d+)$/.exec(requested);
  const name = versioned?.[1] ?? requested;
  const version = versioned ? Number(versioned[2]) : undefined;
  let found: WorkflowDefinition | undefined;
  for (const definition of definitions) {
    if (definition.name !== name) continue;
    if (version === undefined ? definition.version > (found?.version ?? 0) : definition.version === version) found = definition;
  }
  if (!found) throw new UnknownDefinitionError(requested, definitions.map((definition) => `${definition.name}@${definition.version}`));
  return found;
}
