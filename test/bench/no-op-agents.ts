/**
 * No-op agents for the benchmarks: every action of the trading saga answers at once with the output
 * the demo's agents gave it once, so the saga's mappings find what they read and the agents cost
 * (next to) nothing. The outputs are recorded from one real run of the saga, not written out here,
 * so they follow the saga.
 */
import { AgentRegistry, type ActionHandler } from '../../src/agents/index.js';
import { SagaRuntime } from '../../src/saga/runtime/index.js';
import { stepState } from '../../src/saga/state.js';
import { openStore } from '../../src/store/open.js';
import { createTradingAgents } from '../../sagas/trading/agents.js';
import { tradingPipeline } from '../../sagas/trading/definition.js';

export const benchInput = { symbol: 'ACME', side: 'buy', quantity: 10, account: 'acct-1' };

/** The no-op handlers, by capability. */
export async function noOpHandlers(): Promise<Map<string, Record<string, ActionHandler>>> {
  const store = await openStore('memory:');
  const registry = await AgentRegistry.open({ store });
  const { agents } = createTradingAgents({ failureRate: 0, rejectionRate: 0, postTradeFailureRate: 0, latencyMs: 0, replicas: 1 });
  for (const agent of agents) await registry.register(agent);
  const runtime = await SagaRuntime.start({ store, registry });
  const { workflowId } = await runtime.startWorkflow(tradingPipeline, benchInput);
  const state = await runtime.waitForEnd(workflowId);
  await runtime.stop();
  await registry.close();
  await store.close();
  if (state.status !== 'completed') throw new Error(`recording run ended ${state.status}`);
  const byCapability = new Map<string, Record<string, ActionHandler>>();
  for (const step of tradingPipeline.steps) {
    const recorded = stepState(state, step.id)?.output ?? null;
    const handlers = byCapability.get(step.capability) ?? {};
    handlers[step.action] = async () => recorded;
    byCapability.set(step.capability, handlers);
  }
  return byCapability;
}
