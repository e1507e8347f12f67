/** The saga definitions shipped with cadenza, by name. */
import type { WorkflowDefinition } from '../src/workflow/index.js';
import { tradingPipeline } from './trading/definition.js';

export const shippedSagas: Readonly<Record<string, WorkflowDefinition>> = {
  [tradingPipeline.name]: tradingPipeline,
};

export { tradingPipeline, tradingInputSchema, type TradingInput } from './trading/definition.js';
