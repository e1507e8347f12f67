/**
 * Wires an engine for the CLI: the store, the agent registry with the shipped sagas' simulated
 * agents, and a saga runtime. One place, so `demo` and `run` (and later the HTTP server) start the
 * engine the same way.
 */
import type { Logger } from 'pino';
import { AgentRegistry } from '../agents/index.js';
import { SagaRuntime } from '../saga/runtime/index.js';
import type { EventStore } from '../store/port.js';
import { createTradingAgents, type TradingAgentOptions, type TradingLedger } from '../../sagas/trading/agents.js';

export interface EngineOptions extends TradingAgentOptions {
  readonly store: EventStore;
  readonly logger: Logger;
  readonly maxInFlight?: number;
}

export interface Engine {
  readonly store: EventStore;
  readonly registry: AgentRegistry;
  readonly runtime: SagaRuntime;
  readonly ledger: TradingLedger;
  stop(): Promise<void>;
}

export async function startEngine(options: EngineOptions): Promise<Engine> {
  const { store, logger } = options;
  const registry = await AgentRegistry.open({ store, logger: logger.child({ component: 'agents' }) });
  const { agents, ledger } = createTradingAgents(options);
  for (const agent of agents) await registry.register(agent);
  const runtime = await SagaRuntime.start({
    store,
    registry,
    logger: logger.child({ component: 'saga' }),
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
  });
  return {
    store,
    registry,
    runtime,
    ledger,
    async stop() {
      await runtime.stop();
      await registry.close();
    },
  };
}
