/**
 * The trading saga as a worker config: its definition and its simulated agents. `cadenza demo`
 * builds it with the demo's options; `cadenza.config.ts` beside it is the same thing with the
 * defaults, for `cadenza worker --config sagas/trading/cadenza.config.ts`.
 */
import type { CadenzaConfigInput } from '../../src/worker/config.js';
import { createTradingAgents, type TradingAgentOptions, type TradingLedger } from './agents.js';
import { tradingPipeline } from './definition.js';

export function tradingConfig(options: TradingAgentOptions = {}): { config: CadenzaConfigInput; ledger: TradingLedger } {
  const { agents, ledger } = createTradingAgents(options);
  return { config: { definitions: [tradingPipeline], agents }, ledger };
}
