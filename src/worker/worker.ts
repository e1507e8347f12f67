/**
 * A worker: one long-running engine hosting a config's definitions and agents. It drives only the
 * workflows of the definitions it hosts (the runtime's `definitions` option) and calls only its own
 * agents. `drain()` is its graceful end: no new agent call starts, the calls in flight get up to the
 * config's `drainTimeoutMs` to finish and have their results stored, then the engine stops. What is
 * unfinished stays in the store for the next worker (see docs/embedding.md, "Run a worker").
 */
import type { Logger } from 'pino';
import { AgentRegistry } from '../agents/index.js';
import { SagaRuntime } from '../saga/runtime/index.js';
import { isTerminal } from '../saga/state.js';
import type { EventStore } from '../store/port.js';
import { CallGate } from './call-gate.js';
import type { WorkerConfig } from './config.js';

export interface WorkerOptions {
  readonly config: WorkerConfig;
  readonly store: EventStore;
  readonly logger: Logger;
}

export interface DrainReport {
  /** True when every call in flight finished before the deadline. */
  readonly drained: boolean;
  /** Calls still running at the deadline: aborted, their attempts left for the next worker. */
  readonly abandonedCalls: number;
  readonly durationMs: number;
}

export class Worker {
  readonly #gate: CallGate;
  readonly #log: Logger;
  readonly #drainTimeoutMs: number;
  #draining: Promise<DrainReport> | undefined;

  private constructor(
    readonly runtime: SagaRuntime,
    readonly registry: AgentRegistry,
    gate: CallGate,
    log: Logger,
    drainTimeoutMs: number,
  ) {
    this.#gate = gate;
    this.#log = log;
    this.#drainTimeoutMs = drainTimeoutMs;
  }

  /** Registers the config's agents and starts the runtime (it catches up with its workflows first). */
  static async start({ config, store, logger }: WorkerOptions): Promise<Worker> {
    const gate = new CallGate();
    const registry = await AgentRegistry.open({ store, logger: logger.child({ component: 'agents' }) });
    try {
      for (const agent of config.agents) await registry.register(gate.guard(agent));
      const runtime = await SagaRuntime.start({
        store,
        registry,
        definitions: config.definitions,
        logger: logger.child({ component: 'saga' }),
        ...(config.maxInFlight === undefined ? {} : { maxInFlight: config.maxInFlight }),
      });
      runtime.transitions$.subscribe(({ workflowId, event, state }) => {
        if (state.status !== 'idle' && isTerminal(state.status) && event.type.startsWith('Workflow')) logger.info({ workflowId, workflow: state.definition.name, status: state.status }, 'workflow ended');
      });
      logger.info({ definitions: config.definitions.map((d) => `${d.name}@${d.version}`), agents: config.agents.map((a) => a.id), drainTimeoutMs: config.drainTimeoutMs }, 'worker started');
      return new Worker(runtime, registry, gate, logger, config.drainTimeoutMs);
    } catch (error) {
      await registry.close();
      throw error;
    }
  }

  /** Agent calls being performed now. */
  get activeCalls(): number {
    return this.#gate.running;
  }

  /** Stop gracefully (idempotent): see the module header. */
  drain(reason = 'asked'): Promise<DrainReport> {
    this.#draining ??= this.#drain(reason);
    return this.#draining;
  }

  async #drain(reason: string): Promise<DrainReport> {
    const started = Date.now();
    this.#gate.close();
    this.#log.info({ reason, activeCalls: this.#gate.running, drainTimeoutMs: this.#drainTimeoutMs }, 'draining');
    const drained = (await this.#gate.idle(this.#drainTimeoutMs)) && (await this.#resultsHandedOver(started + this.#drainTimeoutMs));
    const abandonedCalls = this.#gate.running;
    if (!drained) this.#log.warn({ abandonedCalls }, 'drain deadline passed: calls still running are aborted and left to the next worker');
    await this.runtime.stop();
    await this.registry.close();
    const report: DrainReport = { drained, abandonedCalls, durationMs: Date.now() - started };
    this.#log.info(report, 'worker stopped');
    return report;
  }

  /**
   * A finished call's result reaches the runtime a few ticks after its transport settled; stopping
   * before then would drop a result the agent already produced. Waits (turn by turn, up to the
   * deadline) until the only calls the runtime still awaits are the ones the gate holds back.
   */
  async #resultsHandedOver(deadline: number): Promise<boolean> {
    while (this.runtime.stats().activeCalls > this.#gate.held) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return true;
  }
}
