/**
 * The CLI's engine: the facade (src/engine) with the shipped trading saga's simulated agents, so
 * `demo`, `run` and the operator commands start the engine the way every embedding does.
 */
import type { Logger } from 'pino';
import { createEngine, type Engine as FacadeEngine } from '../engine/index.js';
import type { EventStore } from '../store/port.js';
import type { WorkflowDefinition } from '../workflow/definition.js';
import { createTradingAgents, type TradingAgentOptions, type TradingLedger } from '../../sagas/trading/agents.js';

export interface EngineOptions extends TradingAgentOptions {
  readonly store: EventStore;
  readonly logger: Logger;
  readonly maxInFlight?: number;
  /** The definitions to host (see the facade's `definitions`). Default: drive every workflow. */
  readonly definitions?: readonly WorkflowDefinition[];
}

export interface Engine extends FacadeEngine {
  readonly ledger: TradingLedger;
}

export async function startEngine(options: EngineOptions): Promise<Engine> {
  const { agents, ledger } = createTradingAgents(options);
  const engine = await createEngine({
    store: options.store,
    logger: options.logger,
    agents,
    ...(options.definitions === undefined ? {} : { definitions: options.definitions }),
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
  });
  return Object.assign(engine, { ledger });
}
