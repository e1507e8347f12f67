/**
 * The agent registry: every process's shared view of the agents, folded from `agent-<id>` streams
 * through a `$all` subscription filtered by the `agent-` prefix. Registration and circuit
 * transitions are appended with the expected revision of the agent stream; on a conflict the stream
 * is reloaded (another process may have recorded the same transition) and the write retried only if
 * it still applies.
 *
 * Opening reads the directory of agents and their streams by name, then follows the `agent-` prefix
 * from the head of the log (agent-feed.ts): its cost is the agents', not the log's. An agent's first
 * event is preceded by its listing in the directory (agent-directory.ts).
 *
 * Transports are local: a process can call only the agents it registered itself (or attached a
 * transport for). Agents registered by other processes are known but not callable here.
 */
import { randomUUID } from 'node:crypto';
import { Subject, type Observable } from 'rxjs';
import { z } from 'zod';
import { StreamNotFoundError, WrongExpectedVersionError } from '../store/errors.js';
import type { EventStore, ExpectedRevision, RecordedEvent } from '../store/port.js';
import { listAgent } from './agent-directory.js';
import { type AgentFeed, followAgentStreams } from './agent-feed.js';
import { type AgentRecord, emptyAgentRecord, evolveAgent } from './agent-record.js';
import {
  type CallOutcome,
  type CircuitBreakerConfig,
  type CircuitState,
  type CircuitStatus,
  type CircuitTransition,
  admit,
  isAvailable,
  recordOutcome,
  resolveBreakerConfig,
} from './circuit-breaker.js';
import { rankCandidates, reopenAtOf } from './discovery.js';
import { AGENT_STREAM_PREFIX, type AgentEvent, agentStream, parseAgentEvent, toEventData, transitionEvent } from './events.js';
import { type Logger, silentLogger } from './logging.js';
import { AgentStats } from './stats.js';
import type { AgentTransport } from './transport.js';

export interface AgentDefinition {
  readonly id: string;
  readonly capabilities: readonly string[];
  readonly transport: AgentTransport;
  /** Preference among equally healthy, equally loaded agents (higher first). Default 1. */
  readonly weight?: number;
  /** Concurrent calls this agent accepts (its bulkhead) and the denominator of its load. */
  readonly maxConcurrency?: number;
}

/** What `register` accepts; the worker config checks its agents with it before anything is registered. */
export const agentDefinitionSchema = z.object({
  id: z.string().min(1).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, ".", "_", ":" and "-" only'),
  capabilities: z.array(z.string().min(1)).min(1),
  weight: z.number().positive().optional(),
  maxConcurrency: z.number().int().positive().optional(),
  transport: z.custom<AgentTransport>((value) => typeof (value as AgentTransport | undefined)?.invoke === 'function', 'must have an invoke method'),
});

export interface AgentRegistryOptions {
  readonly store: EventStore;
  readonly logger?: Logger;
  /** The clock (epoch ms): inject one in tests so cool-downs need no sleeping. */
  readonly now?: () => number;
  readonly circuitBreaker?: Partial<CircuitBreakerConfig>;
  /** Shared with the invoker; created if not given. */
  readonly stats?: AgentStats;
}

export interface CandidateOptions {
  /** Also list agents whose circuit refuses calls now, after the available ones. Default false. */
  readonly includeUnavailable?: boolean;
  /** Also list agents registered elsewhere that this process has no transport for. Default false. */
  readonly includeRemote?: boolean;
}

export interface CallAdmission {
  readonly allowed: boolean;
  /** When refused by an open circuit: when it lets probes through. */
  readonly reopenAt?: number;
}

/** How many times a write is retried after conflicts before giving up (and logging). */
const MAX_WRITE_ATTEMPTS = 5;

export class AgentRegistry {
  readonly stats: AgentStats;
  readonly breakerConfig: CircuitBreakerConfig;
  readonly #store: EventStore;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #records = new Map<string, AgentRecord>();
  readonly #transports = new Map<string, AgentTransport>();
  // Made once: discovery runs for every step scheduled.
  readonly #inFlightOf = (agentId: string): number => this.stats.inFlight(agentId);
  readonly #callable = (agentId: string): boolean => this.#transports.has(agentId);
  /** One write at a time per agent stream, so this process's own transitions stay in order. */
  readonly #writes = new Map<string, Promise<void>>();
  readonly #changes = new Subject<AgentRecord>();
  /** Agents whose stream is being read whole after a gap; `again`: read once more when done. */
  readonly #rereads = new Map<string, { again: boolean; done: Promise<void> }>();
  #feed: AgentFeed | undefined;

  /** Every change of an agent's record (registration, circuit), local or from another process. */
  readonly changes$: Observable<AgentRecord> = this.#changes.asObservable();

  private constructor(options: AgentRegistryOptions) {
    this.#store = options.store;
    this.#logger = options.logger ?? silentLogger();
    this.#now = options.now ?? Date.now;
    this.breakerConfig = resolveBreakerConfig(options.circuitBreaker);
    this.stats = options.stats ?? new AgentStats();
  }

  /** Open a registry and wait until it has caught up with every agent stream. */
  static async open(options: AgentRegistryOptions): Promise<AgentRegistry> {
    const registry = new AgentRegistry(options);
    registry.#feed = followAgentStreams(registry.#store, (event) => registry.#onEvent(event), registry.#logger);
    await registry.#feed.caughtUp;
    return registry;
  }

  now(): number {
    return this.#now();
  }

  /** Register (or update) an agent and keep its transport in this process. Idempotent. */
  async register(definition: AgentDefinition): Promise<AgentRecord> {
    const parsed = agentDefinitionSchema.safeParse(definition);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TypeError(`Invalid agent definition: ${issue?.path.join('.') || 'agent'}: ${issue?.message ?? 'invalid'}`);
    }
    const { id, transport } = definition;
    const capabilities = [...new Set(definition.capabilities)].sort();
    const weight = definition.weight ?? 1;
    this.#transports.set(id, transport);
    const event: AgentEvent = {
      type: 'AgentRegistered',
      data: {
        v: 1,
        agentId: id,
        capabilities,
        weight,
        ...(definition.maxConcurrency === undefined ? {} : { maxConcurrency: definition.maxConcurrency }),
        at: this.#now(),
      },
    };
    const changed = (record: AgentRecord): boolean => !sameRegistration(record, capabilities, weight, definition.maxConcurrency);
    await this.#write(id, event, { precondition: changed, stillApplies: changed });
    this.#logger.info({ agentId: id, capabilities, weight }, 'agent registered');
    return this.#record(id);
  }

  /** Record that the agent is gone; no process will pick it any more. */
  async deregister(agentId: string): Promise<void> {
    this.#transports.delete(agentId);
    const event: AgentEvent = { type: 'AgentDeregistered', data: { v: 1, agentId, at: this.#now() } };
    const registered = (record: AgentRecord): boolean => record.registered;
    await this.#write(agentId, event, { precondition: registered, stillApplies: registered });
    this.#logger.info({ agentId }, 'agent deregistered');
  }

  /** Give this process a way to call an agent registered elsewhere (e.g. a remote agent's endpoint). */
  attachTransport(agentId: string, transport: AgentTransport): void {
    this.#transports.set(agentId, transport);
  }

  get(agentId: string): AgentRecord | undefined {
    return this.#records.get(agentId);
  }

  /** Registered agents, by id. */
  agents(): AgentRecord[] {
    return [...this.#records.values()].filter((record) => record.registered).sort((a, b) => a.id.localeCompare(b.id));
  }

  transportOf(agentId: string): AgentTransport | undefined {
    return this.#transports.get(agentId);
  }

  isCallable(agentId: string): boolean {
    return this.#transports.has(agentId) && this.#records.get(agentId)?.registered === true;
  }

  circuit(agentId: string): CircuitState | undefined {
    return this.#records.get(agentId)?.circuit;
  }

  /** Would the circuit let a call through now? Takes no probe slot. */
  isAvailable(agentId: string): boolean {
    const record = this.#records.get(agentId);
    return record !== undefined && isAvailable(record.circuit, this.#now(), this.breakerConfig);
  }

  /**
   * Agents with the capability, best first: available circuits only (closed, or ready for a probe);
   * healthier first (closed without recent failures, then closed with some, then probing); then
   * least loaded (in-flight / maxConcurrency); then higher weight; then id, so the order is stable.
   */
  candidates(capability: string, options: CandidateOptions = {}): string[] {
    return rankCandidates({
      records: this.#records.values(),
      capability,
      now: this.#now(),
      breaker: this.breakerConfig,
      inFlight: this.#inFlightOf,
      callable: this.#callable,
      ...options,
    });
  }

  /** Earliest time an agent with the capability becomes available again (for a retry timer), if any is open. */
  nextReopenAt(capability: string): number | undefined {
    const times = [...this.#records.values()]
      .filter((record) => record.registered && record.capabilities.includes(capability) && record.circuit.status === 'open')
      .map((record) => reopenAtOf(record.circuit));
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** Ask the breaker for a call slot (takes a probe slot when half-open). */
  admit(agentId: string): CallAdmission {
    const record = this.#records.get(agentId);
    if (!record) return { allowed: false };
    const step = admit(record.circuit, this.#now(), this.breakerConfig);
    this.#setCircuit(record, step.state, step.transition);
    if (step.allowed) return { allowed: true };
    return step.state.status === 'open' ? { allowed: false, reopenAt: step.state.reopenAt } : { allowed: false };
  }

  /** Feed the outcome of an admitted call to the breaker. */
  recordOutcome(agentId: string, outcome: CallOutcome): void {
    const record = this.#records.get(agentId);
    if (!record) return;
    const step = recordOutcome(record.circuit, outcome, this.#now(), this.breakerConfig);
    this.#setCircuit(record, step.state, step.transition);
  }

  /** Wait for this process's pending writes (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.#writes.values()]);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#feed?.stop();
    await Promise.all([...this.#rereads.values()].map((reread) => reread.done));
    this.#changes.complete();
  }

  #record(agentId: string): AgentRecord {
    return this.#records.get(agentId) ?? emptyAgentRecord(agentId);
  }

  #setCircuit(record: AgentRecord, circuit: CircuitState, transition: CircuitTransition | undefined): void {
    if (circuit === record.circuit) return;
    const updated = { ...record, circuit };
    this.#records.set(record.id, updated);
    if (!transition) return;
    const from = record.circuit.status;
    this.#logger.warn({ agentId: record.id, from, transition }, `circuit ${transition.to}`);
    this.#changes.next(updated);
    // The transition takes effect here at once; recording it makes it effective everywhere. After a
    // conflict it is retried only while the stored circuit is still where this one was decided from.
    void this.#write(record.id, transitionEvent(record.id, transition), {
      stillApplies: (stored) => stored.circuit.status === from,
      target: transition.to,
    });
  }

  /**
   * Append `event` to the agent's stream with the expected revision of the record it was decided
   * from. On a conflict: reload, and try again only if it still applies and the circuit is not
   * already where this write would take it (another process recorded the same transition).
   */
  #write(agentId: string, event: AgentEvent, rules: WriteRules): Promise<void> {
    const previous = this.#writes.get(agentId) ?? Promise.resolve();
    const next = previous.then(() => this.#writeNow(agentId, event, rules));
    const tracked = next.finally(() => {
      if (this.#writes.get(agentId) === tracked) this.#writes.delete(agentId);
    });
    this.#writes.set(agentId, tracked);
    // The caller handles `next`; `tracked` only orders the next write, and must not also surface a
    // failure as an unhandled rejection (a full disk printed its stack trace after the report).
    tracked.catch(() => undefined);
    return next;
  }

  async #writeNow(agentId: string, event: AgentEvent, { precondition, stillApplies, target }: WriteRules): Promise<void> {
    const log = this.#logger.child({ agentId });
    let listed = false;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt += 1) {
      const record = this.#record(agentId);
      if (attempt === 1 && precondition && !precondition(record)) return;
      try {
        // A new agent stream: listed first, so that a registry opening from the directory reads it.
        if (record.revision < 0n && !listed) listed = await listAgent(this.#store, agentId);
        const result = await this.#store.append(agentStream(agentId), [toEventData(event, randomUUID())], {
          expectedRevision: expectedRevisionOf(record.revision),
        });
        this.#applyOwn(agentId, event, result.nextExpectedRevision);
        return;
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) {
          log.error({ err: error, event: event.type }, 'could not record agent event');
          if (target === undefined) throw error;
          return; // A lost breaker transition must not fail the call that caused it.
        }
        const stored = await this.#reload(agentId);
        this.#adopt(stored);
        if (target !== undefined && stored.circuit.status === target) {
          log.debug({ event: event.type }, 'transition already recorded by another process');
          return;
        }
        if (!stillApplies(stored)) {
          log.debug({ event: event.type, stored: stored.circuit.status }, 'write superseded by another process');
          return;
        }
      }
    }
    log.warn({ event: event.type }, 'gave up recording agent event after repeated conflicts');
  }

  /** Our own append succeeded: the local state already reflects it, except for registration data. */
  #applyOwn(agentId: string, event: AgentEvent, revision: bigint): void {
    const current = this.#record(agentId);
    if (current.revision >= revision) return;
    const evolved = evolveAgent(current, event, revision);
    // Circuit transitions were applied locally when decided; keep the live counters.
    this.#put(isCircuitEvent(event) ? { ...evolved, circuit: current.circuit } : evolved);
  }

  async #reload(agentId: string): Promise<AgentRecord> {
    let record = emptyAgentRecord(agentId);
    try {
      for await (const recorded of this.#store.readStream(agentStream(agentId))) {
        const event = this.#parse(recorded);
        if (event) record = evolveAgent(record, event, recorded.revision);
        else record = { ...record, revision: recorded.revision };
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return record;
  }

  /** Take a stored record unless ours is at least as new; keep live counters of an unchanged circuit. */
  #adopt(stored: AgentRecord): void {
    const current = this.#record(stored.id);
    if (stored.revision <= current.revision) return;
    const keepCircuit = current.circuit.status === stored.circuit.status && stored.circuit.status !== 'open';
    this.#put(keepCircuit ? { ...stored, circuit: current.circuit } : stored);
  }

  #put(record: AgentRecord): void {
    this.#records.set(record.id, record);
    this.#changes.next(record);
  }

  #parse(recorded: RecordedEvent): AgentEvent | undefined {
    try {
      return parseAgentEvent(recorded);
    } catch (error) {
      this.#logger.warn({ err: error, stream: recorded.stream, revision: String(recorded.revision) }, 'skipping malformed agent event');
      return undefined;
    }
  }

  #onEvent(recorded: RecordedEvent): void {
    if (!recorded.stream.startsWith(AGENT_STREAM_PREFIX)) return;
    const agentId = recorded.stream.slice(AGENT_STREAM_PREFIX.length);
    const current = this.#record(agentId);
    if (recorded.revision <= current.revision) return; // our own write, already applied
    if (recorded.revision > current.revision + 1n) {
      // Earlier events of this agent were never seen (an agent missing from the directory): read it whole.
      this.#reread(agentId);
      return;
    }
    const event = this.#parse(recorded);
    if (!event) {
      this.#records.set(agentId, { ...current, revision: recorded.revision });
      return;
    }
    this.#adopt(evolveAgent(current, event, recorded.revision));
    if (isCircuitEvent(event)) this.#logger.info({ agentId, event: event.type }, 'circuit transition seen');
  }

  /** Read an agent's stream whole and take it; once more if another gap is met meanwhile. */
  #reread(agentId: string): void {
    const running = this.#rereads.get(agentId);
    if (running) {
      running.again = true;
      return;
    }
    const reread = { again: true, done: Promise.resolve() };
    this.#rereads.set(agentId, reread);
    reread.done = (async () => {
      try {
        while (reread.again) {
          reread.again = false;
          this.#adopt(await this.#reload(agentId));
        }
      } catch (error) {
        this.#logger.error({ err: error, agentId }, 'cannot read an agent stream; its record stays behind until its next event');
      } finally {
        this.#rereads.delete(agentId);
      }
    })();
  }
}

interface WriteRules {
  /** Checked against the live record before the first attempt: false skips the write. */
  readonly precondition?: (record: AgentRecord) => boolean;
  /** Checked against the reloaded stream after a conflict: false drops the write. */
  readonly stillApplies: (stored: AgentRecord) => boolean;
  /** For circuit transitions: the status the write moves the circuit to. */
  readonly target?: CircuitStatus;
}

function isCircuitEvent(event: AgentEvent): boolean {
  return event.type === 'AgentCircuitOpened' || event.type === 'AgentCircuitHalfOpened' || event.type === 'AgentCircuitClosed';
}

function expectedRevisionOf(revision: bigint): ExpectedRevision {
  return revision < 0n ? 'no_stream' : revision;
}

function sameRegistration(record: AgentRecord, capabilities: readonly string[], weight: number, maxConcurrency: number | undefined): boolean {
  return (
    record.registered &&
    record.weight === weight &&
    record.maxConcurrency === maxConcurrency &&
    record.capabilities.length === capabilities.length &&
    record.capabilities.every((capability, index) => capability === capabilities[index])
  );
}
