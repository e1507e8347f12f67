/**
 * A worker: one long-running engine (the facade, src/engine) hosting a config's definitions and
 * agents. It drives only the workflows of the definitions it hosts and calls only its own agents.
 * `drain()` is its graceful end, the runtime's drain: no new agent call starts, the calls in flight
 * get up to the config's `drainTimeoutMs` to finish and have their results stored, then the engine
 * stops. What is unfinished stays in the store for the next worker, which re-sends it on start-up
 * (see docs/embedding.md, "Run a worker").
 */
import type { Logger } from 'pino';
import { RemoteA2aAgent } from '../agents/a2a/index.js';
import { createEngine, type Engine } from '../engine/index.js';
import type { SagaRuntime } from '../saga/runtime/index.js';
import { isTerminal } from '../saga/state.js';
import type { EventStore } from '../store/port.js';
import type { WorkerConfig } from './config.js';

export interface WorkerOptions {
  readonly config: WorkerConfig;
  readonly store: EventStore;
  readonly logger: Logger;
  /** `guest` for a command that runs an engine briefly (run, fork, compensate): it takes no partitions from live workers. */
  readonly leases?: 'worker' | 'guest';
}

export interface DrainReport {
  /** True when every call in flight finished before the deadline (else the rest were cut off, to be re-sent by the next worker). */
  readonly drained: boolean;
  readonly durationMs: number;
}

export class Worker {
  readonly #log: Logger;
  readonly #drainTimeoutMs: number;
  #draining: Promise<DrainReport> | undefined;

  private constructor(
    /** The engine facade the worker runs: start, wait, status... for code that embeds a worker. */
    readonly engine: Engine,
    log: Logger,
    drainTimeoutMs: number,
    private readonly remoteAgents: readonly RemoteA2aAgent[],
  ) {
    this.#log = log;
    this.#drainTimeoutMs = drainTimeoutMs;
  }

  /** Registers the config's agents and starts the engine (it catches up with its workflows first). */
  static async start({ config, store, logger, leases }: WorkerOptions): Promise<Worker> {
    // Remote A2A agents are discovered from their cards before the engine starts (its start-up
    // re-sends calls in flight and needs their transports), then watched. One whose card cannot be
    // read yet is not registered: its steps wait for it, visibly, and nothing fails.
    const remoteAgents = config.a2aAgents.map((options) => new RemoteA2aAgent(options));
    const discovered = (await Promise.all(remoteAgents.map((agent) => agent.discover(logger)))).filter((definition) => definition !== undefined);
    const engine = await createEngine({
      store,
      logger,
      definitions: config.definitions,
      agents: [...config.agents, ...discovered],
      ...(config.maxInFlight === undefined ? {} : { maxInFlight: config.maxInFlight }),
      ...(leases === undefined ? {} : { leases }),
      // Workers that call different agents are not interchangeable: each set leases its own partitions.
      ownershipGroup: [...new Set([...config.agents.flatMap((agent) => agent.capabilities), ...config.a2aAgents.map((agent) => `a2a:${agent.id}`)])].sort().join(','),
    });
    engine.runtime.onTransitions((workflowId, events, states) => {
      for (let i = 0; i < events.length; i++) {
        const state = states[i];
        if (state && state.status !== 'idle' && isTerminal(state.status) && events[i]?.type.startsWith('Workflow')) logger.info({ workflowId, workflow: state.definition.name, status: state.status }, 'workflow ended');
      }
    });
    await Promise.all(remoteAgents.map((agent) => agent.watch(engine.registry, logger)));
    logger.info({ definitions: config.definitions.map((d) => `${d.name}@${d.version}`), agents: [...config.agents, ...remoteAgents].map((a) => a.id), drainTimeoutMs: config.drainTimeoutMs }, 'worker started');
    return new Worker(engine, logger, config.drainTimeoutMs, remoteAgents);
  }

  get runtime(): SagaRuntime {
    return this.engine.runtime;
  }

  /** Stop gracefully (idempotent): see the module header. */
  drain(reason = 'asked'): Promise<DrainReport> {
    this.#draining ??= this.#drain(reason);
    return this.#draining;
  }

  async #drain(reason: string): Promise<DrainReport> {
    const started = Date.now();
    for (const agent of this.remoteAgents) agent.stop();
    this.#log.info({ reason, activeCalls: this.runtime.stats().activeCalls, drainTimeoutMs: this.#drainTimeoutMs }, 'draining');
    const drained = await this.runtime.drain(this.#drainTimeoutMs);
    if (!drained) this.#log.warn('drain deadline passed: calls still running were cut off and are left to the next worker');
    await this.engine.stop();
    const report: DrainReport = { drained, durationMs: Date.now() - started };
    this.#log.info(report, 'worker stopped');
    return report;
  }
}
