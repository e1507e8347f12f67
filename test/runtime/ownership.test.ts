/**
 * Ownership and waiting for agents: a runtime drives only the workflows of the definitions it
 * hosts, a step whose capability has no agent waits visibly until one registers, and a decision
 * appended by another runtime is carried on by the owner at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AgentRegistry } from '../../src/agents/index.js';
import { SagaRuntime, CommandRejectedError } from '../../src/saga/runtime/runtime.js';
import { statusView } from '../../src/saga/status-view.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { agent, historyOf, type TestEngine, startTestEngine } from './support.js';

const fast = { maxAttempts: 2, initialDelayMs: 10, multiplier: 1, maxDelayMs: 10, jitter: 0 };
const orders = workflow('orders').step({ id: 'charge', action: 'charge', capability: 'payments', retry: fast }).build();
const reports = workflow('reports').step({ id: 'render', action: 'render', capability: 'rendering', retry: fast }).build();

let store: EventStore | undefined;
const engines: TestEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop();
  await store?.close();
  store = undefined;
});

async function engineOn(shared: EventStore, definitions: object[], agents: Parameters<typeof startTestEngine>[0]['agents']): Promise<TestEngine> {
  const engine = await startTestEngine({ store: shared, agents, runtime: { definitions: definitions as never } });
  engines.push(engine);
  return engine;
}

describe('ownership by definition', () => {
  it('leaves workflows of definitions it does not host untouched, even with no agent for them anywhere', async () => {
    store = await openStore('memory:');
    const ordersEngine = await engineOn(store, [orders], [agent('pay', ['payments'], { charge: () => ({ charged: true }) })]);
    const reportsEngine = await engineOn(store, [reports], []);

    const report = await reportsEngine.runtime.startWorkflow(reports, {});
    const order = await ordersEngine.runtime.startWorkflow(orders, {});
    expect((await ordersEngine.runtime.waitForEnd(order.workflowId)).status).toBe('completed');

    // The report waits for a renderer, visibly; the orders runtime never touched it.
    const waiting = await reportsEngine.runtime.getState(report.workflowId);
    expect(waiting.status).toBe('running');
    expect(statusView(waiting, Date.now())?.steps.waitingForAgent).toEqual(['render']);
    const types = (await historyOf(store, report.workflowId)).map((e) => e.type);
    expect(types).toEqual(['WorkflowStarted', 'StepWaitingForAgent']);

    // A runtime refuses to start a definition it does not host.
    await expect(ordersEngine.runtime.startWorkflow(reports, {})).rejects.toThrow(CommandRejectedError);
    await expect(ordersEngine.runtime.startWorkflow(reports, {})).rejects.toThrow(/reports@1 is not hosted by this runtime/);
  });

  it('runs a waiting step as soon as an agent with its capability registers', async () => {
    store = await openStore('memory:');
    const engine = await engineOn(store, [reports], []);
    const { workflowId } = await engine.runtime.startWorkflow(reports, {});
    expect((await engine.runtime.getState(workflowId)).status).toBe('running');
    await engine.registry.register(agent('renderer', ['rendering'], { render: () => ({ pdf: 'ok' }) }));
    const end = await engine.runtime.waitForEnd(workflowId);
    expect(end.status).toBe('completed');
    const types = (await historyOf(store, workflowId)).map((e) => e.type);
    expect(types).toEqual(['WorkflowStarted', 'StepWaitingForAgent', 'StepScheduled', 'StepSucceeded', 'WorkflowCompleted']);
  });

  it('the owner carries on at once a decision another runtime appended (here: a start appended with no agents)', async () => {
    store = await openStore('memory:');
    const owner = await engineOn(store, [reports], [agent('renderer', ['rendering'], { render: () => ({ pdf: 'ok' }) })]);
    // Another process hosts the definition but has no agents: its start leaves the step waiting. (A
    // guest, as a tool is: it takes none of the owner's partitions.)
    const registry = await AgentRegistry.open({ store });
    const appender = await SagaRuntime.start({ store, registry, definitions: [reports], leases: 'guest' });
    const { workflowId } = await appender.startWorkflow(reports, {});
    await appender.stop();
    await registry.close();
    const end = await owner.runtime.waitForEnd(workflowId);
    expect(end.status).toBe('completed');
    const types = (await historyOf(store, workflowId)).map((e) => e.type);
    // The guest owns no partition: the start is stored queued, and the owner admits it.
    expect(types).toEqual(['WorkflowStarted', 'WorkflowAdmitted', 'StepScheduled', 'StepSucceeded', 'WorkflowCompleted']);
  });
});
