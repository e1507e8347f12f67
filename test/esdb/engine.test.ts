/**
 * The saga runtime and agent registry on the esdb adapter, through the embedded
 * EventStoreDB-compatible server and the real client. The rollback and crash-recovery scenarios on
 * this path live with the runtime's tests (test/runtime/esdb-path.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tradingPipeline } from '../../sagas/trading/definition.js';
import { createTradingAgents } from '../../sagas/trading/agents.js';
import { openEsdbStore } from '../../src/store/esdb.js';
import type { EventStore } from '../../src/store/port.js';
import { historyOf, shop, startTestEngine, type TestEngine } from '../runtime/support.js';
import { startEmbedded, type Embedded } from './support.js';

let embedded: Embedded | undefined;
let adapters: EventStore[] = [];
let engines: TestEngine[] = [];

async function esdbStore(): Promise<EventStore> {
  embedded ??= await startEmbedded();
  const store = await openEsdbStore(embedded.connectionString);
  adapters.push(store);
  return store;
}

afterEach(async () => {
  for (const engine of engines) await engine.stop();
  for (const store of adapters) await store.close();
  await embedded?.stop();
  embedded = undefined;
  adapters = [];
  engines = [];
});

describe('saga engine on the EventStoreDB path', () => {
  it('completes a trade', async () => {
    const { agents } = createTradingAgents({ seed: 3, failureRate: 0, rejectionRate: 0, postTradeFailureRate: 0, latencyMs: 0 });
    const engine = await startTestEngine({ agents, store: await esdbStore() });
    engines.push(engine);
    const { workflowId } = await engine.runtime.startWorkflow(tradingPipeline, { symbol: 'ACME', side: 'buy', quantity: 10, account: 'acct-9' });
    expect((await engine.runtime.waitForEnd(workflowId)).status).toBe('completed');
    const types = (await historyOf(engine.store, workflowId)).map((event) => event.type);
    expect(types[0]).toBe('WorkflowStarted');
    expect(types).toContain('WorkflowCompleted');
  });

  it('a new runtime on a new connection reads back the workflows a stopped one finished', async () => {
    const { agents } = createTradingAgents({ seed: 5, failureRate: 0, rejectionRate: 0, postTradeFailureRate: 0, latencyMs: 0 });
    const first = await startTestEngine({ agents, store: await esdbStore() });
    const { workflowId } = await first.runtime.startWorkflow(tradingPipeline, { symbol: 'ACME', side: 'sell', quantity: 5, account: 'acct-2' });
    await first.runtime.waitForEnd(workflowId);
    await first.stop();
    const second = await startTestEngine({ agents: createTradingAgents({ seed: 5, failureRate: 0, rejectionRate: 0, postTradeFailureRate: 0, latencyMs: 0 }).agents, store: await esdbStore() });
    engines.push(second);
    expect((await second.runtime.waitForEnd(workflowId)).status).toBe('completed');
  });

  // Each runtime's subscription asks the server to leave its own appends out (follower.ts): what
  // another runtime appends, on another adapter or on the same one, must still reach it.
  it.each([['its own adapter', false], ['the same adapter', true]])('the owner carries on an operator command another runtime appended through %s', async (_name, shared) => {
    const desk = { down: true };
    const released: string[] = [];
    const { definition: shopDefinition, agents } = shop(desk, released);
    const ownerStore = await esdbStore();
    const owner = await startTestEngine({ store: ownerStore, runtime: { definitions: [shopDefinition] }, agents });
    engines.push(owner);
    const { workflowId } = await owner.runtime.startWorkflow(shopDefinition, {});
    expect((await owner.runtime.waitForEnd(workflowId)).status).toBe('compensationFailed');
    desk.down = false;

    // An operator's runtime with no agents and no partitions decides the compensate and appends it.
    const operator = await startTestEngine({ store: shared ? ownerStore : await esdbStore(), agents: [], runtime: { definitions: [shopDefinition], leases: 'guest' } });
    engines.push(operator);
    await operator.runtime.compensate(workflowId, 'desk back');
    // Nothing times out here (the waiting compensation has no timer): only the owner's subscription can wake it.
    const end = await Promise.race([
      owner.runtime.waitForEnd(workflowId),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the owner did not carry on the compensate within 10 s')), 10_000).unref()),
    ]);
    expect(end.status).toBe('compensated');
    expect(released).toEqual([`${workflowId}:reserve:compensate`]);
    const types = (await historyOf(ownerStore, workflowId)).map((event) => event.type);
    expect(types.slice(-5)).toEqual(['CompensationRetried', 'CompensationWaitingForAgent', 'CompensationScheduled', 'CompensationSucceeded', 'WorkflowCompensated']);
  });
});
