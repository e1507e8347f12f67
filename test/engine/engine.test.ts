/** The engine facade over a real store: user definitions, plain-function and HTTP agents, queries, stop. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentFailure } from '../../src/agents/index.js';
import { createEngine, defineAgent, httpAgent, UnknownDefinitionError, type Engine } from '../../src/engine/index.js';
import { WorkflowNotFoundError } from '../../src/saga/runtime/index.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { tempStoreFile } from '../store/temp-store.js';

/** Charge, then ship; a failed shipment refunds the charge. */
const order = workflow('order')
  .version(2)
  .requireInput('amount')
  .step({ id: 'charge', action: 'charge', capability: 'payments', input: { amount: 'input.amount' }, output: { payment: '$' }, compensation: { action: 'refund', input: { paymentId: '$output.paymentId' } } })
  .step({ id: 'ship', action: 'ship', capability: 'shipping', dependsOn: ['charge'], retry: { maxAttempts: 1 } })
  .build();
const orderV1 = { ...order, version: 1, steps: order.steps.slice(0, 1) };

function orderAgents(ledger: { charged: number[]; refunded: string[] }, shipping: (input: unknown) => Promise<unknown> = async () => ({ shipped: true })) {
  return [
    defineAgent({
      id: 'payments-1',
      capabilities: ['payments'],
      handlers: {
        charge: async (input) => {
          const { amount } = input as { amount: number };
          ledger.charged.push(amount);
          return { paymentId: `p-${amount}` };
        },
        refund: async (input) => {
          ledger.refunded.push((input as { paymentId: string }).paymentId);
        },
      },
    }),
    defineAgent({ id: 'shipping-1', capabilities: ['shipping'], handlers: { ship: async (input) => (await shipping(input)) as { shipped: boolean } } }),
  ];
}

const engines: Engine[] = [];
let server: Server | undefined;

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function countEvents(store: EventStore, workflowId: string): Promise<number> {
  let count = 0;
  for await (const _event of store.readStream(`workflow-${workflowId}`)) count++;
  return count;
}

async function engineWith(options: Parameters<typeof createEngine>[0]): Promise<Engine> {
  const engine = await createEngine(options);
  engines.push(engine);
  return engine;
}

describe('createEngine', () => {
  it('runs a hosted definition by name with plain-function agents, and reports status, history and replay', async () => {
    const ledger = { charged: [] as number[], refunded: [] as string[] };
    const engine = await engineWith({ store: 'memory:', definitions: [order, orderV1], agents: orderAgents(ledger) });

    const { workflowId } = await engine.start('order', { amount: 30 }, { workflowId: 'order-ok' });
    const state = await engine.wait(workflowId);
    expect(state.status).toBe('completed');
    // The name alone is the newest version: v2 has the shipping step.
    expect(state.definition.version).toBe(2);
    expect(ledger).toEqual({ charged: [30], refunded: [] });

    const status = await engine.status(workflowId);
    expect(status).toMatchObject({ workflowId, name: 'order', status: 'completed', progress: 100, steps: { total: 2, succeeded: 2 } });

    const types: string[] = [];
    const revisions: bigint[] = [];
    for await (const entry of engine.history(workflowId)) {
      types.push(entry.event.type);
      revisions.push(entry.revision);
      expect(entry.metadata.correlationId).toBe(workflowId);
    }
    expect(types[0]).toBe('WorkflowStarted');
    expect(types.at(-1)).toBe('WorkflowCompleted');
    expect(revisions).toEqual(revisions.map((_, i) => BigInt(i)));

    // Replayed to its first event the workflow has just started: nothing succeeded yet.
    const atStart = await engine.replay(workflowId, { until: 0 });
    expect(atStart.events).toBe(1);
    expect(atStart.state.status).toBe('running');
    expect(atStart.state.settledSteps).toBe(0);
    expect((await engine.replay(workflowId)).state.status).toBe('completed');

    const v1 = await engine.start('order@1', { amount: 5 });
    expect((await engine.wait(v1.workflowId)).definition.steps.map((s) => s.id)).toEqual(['charge']);
  });

  it('compensates a failed step with the agent\'s compensation handler', async () => {
    const ledger = { charged: [] as number[], refunded: [] as string[] };
    const engine = await engineWith({
      store: 'memory:',
      definitions: [order],
      agents: orderAgents(ledger, async () => {
        throw new AgentFailure('address unknown', 'bad-address', false);
      }),
    });
    const { workflowId } = await engine.start(order, { amount: 12 });
    const state = await engine.wait(workflowId);
    expect(state.status).toBe('compensated');
    expect(ledger).toEqual({ charged: [12], refunded: ['p-12'] });
    const status = await engine.status(workflowId);
    expect(status.compensation).toMatchObject({ compensated: ['charge'], failed: [] });
    expect(status.lastError).toMatchObject({ stepId: 'ship', code: 'bad-address' });
  });

  it('names what it hosts when asked for a definition it does not, and writes nothing', async () => {
    const engine = await engineWith({ store: 'memory:', definitions: [order], agents: orderAgents({ charged: [], refunded: [] }) });
    await expect(engine.start('refund', {})).rejects.toThrow(new UnknownDefinitionError('refund', ['order@2']));
    await expect(engine.start('order@7', {})).rejects.toThrow('Unknown workflow definition "order@7" (hosted: order@2)');
    await expect(engine.start(orderV1, { amount: 1 })).rejects.toBeInstanceOf(UnknownDefinitionError);
    let events = 0;
    for await (const event of engine.store.readAll()) if (event.stream.startsWith('workflow-')) events++;
    expect(events).toBe(0);
  });

  it('answers WorkflowNotFoundError for a workflow that was never started', async () => {
    const engine = await engineWith({ store: 'memory:' });
    await expect(engine.status('nope')).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expect(engine.replay('nope')).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expect(engine.wait('nope')).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expect((async () => {
      for await (const _entry of engine.history('nope')) break;
    })()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('calls a remote agent over HTTP', async () => {
    const calls: { action: string; key: string | undefined }[] = [];
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const call = JSON.parse(body) as { action: string; input: { amount: number } };
        calls.push({ action: call.action, key: request.headers['idempotency-key'] as string | undefined });
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ok: true, output: { paymentId: `remote-${call.input.amount}` } }));
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/payments`;
    const charge = workflow('remote-charge').step({ id: 'charge', action: 'charge', capability: 'payments', input: { amount: 'input.amount' }, output: { payment: '$' } }).build();

    const engine = await engineWith({ store: 'memory:', definitions: [charge], agents: [httpAgent({ id: 'payments-http', capabilities: ['payments'], url })] });
    const { workflowId } = await engine.start('remote-charge', { amount: 9 });
    const state = await engine.wait(workflowId);
    expect(state.status).toBe('completed');
    expect(state.data).toMatchObject({ payment: { paymentId: 'remote-9' } });
    expect(calls).toEqual([{ action: 'charge', key: `${workflowId}:charge` }]);
  });

  it('opens a store from a URI and closes it on stop; a store passed in stays open', async () => {
    const file = tempStoreFile();
    try {
      const first = await createEngine({ store: `sqlite:${file.path}`, definitions: [orderV1], agents: orderAgents({ charged: [], refunded: [] }) });
      const { workflowId } = await first.start('order', { amount: 3 });
      await first.wait(workflowId);
      await first.stop();
      await expect(countEvents(first.store, workflowId)).rejects.toThrow();

      const store = await openStore(`sqlite:${file.path}`);
      const second = await createEngine({ store });
      expect((await second.status(workflowId)).status).toBe('completed');
      await second.stop();
      // Still the caller's: readable after the engine stopped.
      expect(await countEvents(store, workflowId)).toBeGreaterThan(0);
      await store.close();
    } finally {
      await file.remove();
    }
  });

  it('stop refuses new starts and, with drainMs, lets a call in flight finish and be stored', async () => {
    const store = await openStore('memory:');
    try {
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered: () => void = () => {};
      const inFlight = new Promise<void>((resolve) => (entered = resolve));
      const slow = workflow('slow').step({ id: 'work', action: 'work', capability: 'work', timeoutMs: 60_000 }).build();
      const engine = await createEngine({
        store,
        definitions: [slow],
        agents: [defineAgent({ id: 'worker-1', capabilities: ['work'], handlers: { work: async () => { entered(); await gate; return { done: true }; } } })],
      });
      const { workflowId } = await engine.start('slow', {});
      await inFlight;
      const stopped = engine.stop({ drainMs: 30_000 });
      await expect(engine.start('slow', {})).rejects.toThrow('The engine is stopping');
      release();
      await stopped;

      const reader = await createEngine({ store });
      expect((await reader.status(workflowId)).status).toBe('completed');
      await reader.stop();
    } finally {
      await store.close();
    }
  });
});

describe('defineAgent', () => {
  it('refuses a handler that is not a function, naming the action', () => {
    expect(() => defineAgent({ id: 'a', capabilities: ['x'], handlers: { go: 'nope' as never } })).toThrow('Agent "a": handler for action "go" is a string, not a function');
  });
});
