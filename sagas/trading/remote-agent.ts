/**
 * One trading agent as an agent module for `cadenza agent serve`: `cadenza demo --remote` starts one
 * process per agent with this module. Which agent, and the demo's simulation options, come from the
 * environment: CADENZA_TRADING_AGENT (an id such as `compliance-primary`) and CADENZA_TRADING_OPTIONS
 * (JSON of TradingAgentOptions). Each process keeps its own ledger: the demo runs one replica per
 * capability, so an order and its reversal meet in the same process.
 */
import { tradingAgentHandlers, type TradingAgentOptions } from './agents.js';

const id = process.env.CADENZA_TRADING_AGENT ?? '';
const options = JSON.parse(process.env.CADENZA_TRADING_OPTIONS ?? '{}') as TradingAgentOptions;
const agent = tradingAgentHandlers({ ...options, replicas: 1 }).find((candidate) => candidate.id === id);
if (!agent) throw new Error(`CADENZA_TRADING_AGENT must name a trading agent (e.g. compliance-primary), got "${id}"`);

export default { name: agent.id, skills: [agent.capability], handlers: agent.handlers, description: `trading agent for ${agent.capability}` };

