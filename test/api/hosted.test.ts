/**
 * The API beside an engine in its process (the worker's shape): the hosted definitions with their
 * hashes, starting a workflow of one (201, and the problems: 400 naming the field, 404 unknown
 * definition, 409 existing id, 422 missing input, nothing written for any), and the engine's live
 * figures in `/metrics`: backlog, workflows and agent calls in flight, and store append latency,
 * checked against what ran. Without an engine (`cadenza serve`) the hosted routes answer 501.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../src/api/app.js';
import type { ApiMetrics } from '../../src/api/metrics.js';
import { buildApiServer } from '../../src/api/server.js';
import { createEngine, defineAgent, type Engine } from '../../src/engine/index.js';
import { openStore } from '../../src/store/open.js';
import { StreamNotFoundError } from '../../src/store/errors.js';
import type { EventStore } from '../../src/store/port.js';
import { definitionHash } from '../../src/workflow/hash.js';
import { workflow } from '../../src/workflow/index.js';
import { validateDefinition } from '../../src/workflow/validate.js';
import { order, streamEvents } from './support.js';

const order2 = workflow('order').version(2).requireInput('amount', 'customer').step({ id: 'charge', action: 'charge', capability: 'payments' }).build();

/** Charges wait on the gate while it is closed: calls and workflows stay in flight for a scrape to see. */
const gate = { open: true, waiting: [] as (() => void)[] };
function release(): void {
  gate.open = true;
  for (const go of gate.waiting.splice(0)) go();
}

let store: EventStore;
let engine: Engine;
let app: ApiApp;
let metrics: ApiMetrics;
let workflowAppends = 0;

beforeAll(async () => {
  const real = await openStore('memory:');
  // The real store, counting the appends to workflow streams (the runtime's decisions): the histogram must have seen each.
  store = new Proxy(real, {
    get(target, key, receiver) {
      if (key !== 'append') return Reflect.get(target, key, receiver) as unknown;
      return (stream: string, ...rest: unknown[]) => {
        if (stream.startsWith('workflow-')) workflowAppends++;
        return (target.append as (...args: unknown[]) => unknown).call(target, stream, ...rest);
      };
    },
  });
  engine = await createEngine({
    store,
    maxInFlight: 1,
    definitions: [order, order2],
    agents: [
      defineAgent({
        id: 'payments-1',
        capabilities: ['payments'],
        handlers: {
          charge: async () => {
            if (!gate.open) await new Promise<void>((resolve) => gate.waiting.push(resolve));
            return { paymentId: 'p-1' };
          },
          refund: async () => ({ refunded: true }),
        },
      }),
      defineAgent({ id: 'shipping-1', capabilities: ['shipping'], handlers: { ship: async () => ({ shipped: true }) } }),
    ],
  });
  ({ app, metrics } = await buildApiServer({ store, engine }));
});

afterAll(async () => {
  await app?.close();
  await engine?.stop();
  await store?.close();
});

type Answer = ReturnType<typeof JSON.parse>;
const request = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
  const response = await app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: response.statusCode, type: response.headers['content-type'], body: response.json<Answer>() };
};
// Not found is "nothing written"; any other read error fails the test instead of passing it.
const exists = async (workflowId: string) => (await streamEvents(store, workflowId).catch((error: unknown) => {
  if (error instanceof StreamNotFoundError) return [];
  throw error;
})).length > 0;

describe('hosted definitions', () => {
  it('lists the hosted definitions with their hashes, and serves one by name or name@version', async () => {
    const list = await request('GET', '/api/v1/definitions');
    expect(list.status).toBe(200);
    const hashOf = (definition: typeof order) => definitionHash(validateDefinition(definition));
    expect(list.body.definitions).toEqual([
      { name: 'order', version: 1, hash: hashOf(order), description: '', steps: 2, requiredInput: ['amount'] },
      { name: 'order', version: 2, hash: hashOf(order2), description: '', steps: 1, requiredInput: ['amount', 'customer'] },
    ]);
    const newest = await request('GET', '/api/v1/definitions/order');
    expect(newest.body).toMatchObject({ name: 'order', version: 2, hash: hashOf(order2) });
    expect(newest.body.definition.steps.map((s: { id: string }) => s.id)).toEqual(['charge']);
    expect((await request('GET', '/api/v1/definitions/order@1')).body.hash).toBe(hashOf(order));
    const unknown = await request('GET', '/api/v1/definitions/order@7');
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe('Unknown workflow definition "order@7" (hosted: order@1, order@2)');
  });

  it('starts a workflow of a hosted definition, which then runs and records the same hash', async () => {
    const started = await request('POST', '/api/v1/workflows', { definition: 'order@1', input: { amount: 5 }, workflowId: 'api-start-1', correlationId: 'basket-9' });
    expect(started.status).toBe(201);
    expect(started.body).toEqual({ workflowId: 'api-start-1', definition: 'order', version: 1, hash: definitionHash(validateDefinition(order)), priority: 0, status: 'running' });
    expect((await engine.wait('api-start-1')).status).toBe('completed');
    const [first] = await streamEvents(store, 'api-start-1');
    // The hash is WorkflowStarted's (data); metadata carries only what differs from the defaults.
    expect(first?.metadata).toMatchObject({ correlationId: 'basket-9' });
    expect(first?.data).toMatchObject({ definitionHash: started.body.hash });
  });

  it('refuses bad starts with the fitting problem and writes nothing', async () => {
    const badBody = await request('POST', '/api/v1/workflows', { definition: 'order', input: {}, workflowId: 'bad id!' });
    expect(badBody.status).toBe(400);
    expect(badBody.body.invalidFields.map((f: { field: string }) => f.field)).toEqual(['body.workflowId']);

    const unknown = await request('POST', '/api/v1/workflows', { definition: 'invoice', input: {}, workflowId: 'api-unknown' });
    expect(unknown.status).toBe(404);
    expect(unknown.type).toContain('application/problem+json');

    const missing = await request('POST', '/api/v1/workflows', { definition: 'order', input: { amount: 1 }, workflowId: 'api-missing' });
    expect(missing.status).toBe(422);
    expect(missing.body.invalidFields).toEqual([{ field: 'body.input.customer', message: 'is required by order@2' }]);

    for (const id of ['bad id!', 'api-unknown', 'api-missing']) expect(await exists(id)).toBe(false);

    const before = (await streamEvents(store, 'api-start-1')).length;
    const again = await request('POST', '/api/v1/workflows', { definition: 'order@1', input: { amount: 5 }, workflowId: 'api-start-1' });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/already exists/);
    expect(await streamEvents(store, 'api-start-1')).toHaveLength(before);
  });

  it('answers 501 for hosted routes on a server without an engine (cadenza serve)', async () => {
    const { app: bare } = await buildApiServer({ store });
    try {
      for (const [method, url] of [['GET', '/api/v1/definitions'], ['GET', '/api/v1/definitions/order'], ['POST', '/api/v1/workflows']] as const) {
        const response = await bare.inject({ method, url, ...(method === 'POST' ? { payload: { definition: 'order', input: { amount: 1 }, workflowId: 'api-bare' } } : {}) });
        expect(response.statusCode).toBe(501);
        expect(response.json<Answer>().detail).toMatch(/^This server hosts no engine, so it .*cadenza worker --http/);
      }
      expect(await exists('api-bare')).toBe(false);
    } finally {
      await bare.close();
    }
  });
});

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];
function sample(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no metric family ${name}`);
  const found = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return Number(found?.value ?? found?.count ?? 0);
}
const scrape = async () => parsePrometheusTextFormat((await app.inject({ method: 'GET', url: '/metrics' })).body);

describe("the engine's live figures in /metrics", () => {
  it('shows the backlog, the workflows and agent calls in flight, and every store append of a decision', async () => {
    gate.open = false;
    const first = await engine.start('order@1', { amount: 1 }, { workflowId: 'm-held' });
    // maxInFlight is 1: the second start is stored queued and admitted when the first ends.
    const second = engine.start('order@1', { amount: 2 }, { workflowId: 'm-waiting' });
    for (let tries = 0; gate.waiting.length === 0 || engine.runtime.stats().backlog === 0; tries++) {
      if (tries > 200) throw new Error('the charge never reached the agent, or the second start never waited');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const during = await scrape();
    expect(sample(during, 'cadenza_runtime_workflows_in_flight')).toBe(1);
    expect(sample(during, 'cadenza_runtime_backlog_workflows')).toBe(1);
    // The store's whole backlog, per priority, folded from the log.
    expect(sample(during, 'cadenza_backlog_workflows', { priority: '0' })).toBe(1);
    expect(sample(during, 'cadenza_runtime_workflows_max_in_flight')).toBe(1);
    // The leases it holds: every partition of its table, as its stats say, alone on this store.
    const owned = Object.values(engine.runtime.stats().partitions).flat().length;
    expect(owned).toBeGreaterThan(0);
    expect(sample(during, 'cadenza_runtime_partitions_owned')).toBe(owned);
    // The process's own figures (prom-client's defaults), the event loop's lag among them.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(during.find((f) => f.name === name), name).toBeDefined();
    }
    expect(sample(during, 'cadenza_agent_calls_in_flight', { agent: 'payments-1' })).toBe(1);

    release();
    await second;
    expect((await engine.wait(first.workflowId)).status).toBe('completed');
    expect((await engine.wait('m-waiting')).status).toBe('completed');
    const after = await scrape();
    expect(sample(after, 'cadenza_runtime_workflows_in_flight')).toBe(0);
    expect(sample(after, 'cadenza_runtime_backlog_workflows')).toBe(0);
    expect(sample(after, 'cadenza_backlog_workflows', { priority: '0' })).toBe(0);
    expect(sample(after, 'cadenza_agent_calls_in_flight', { agent: 'payments-1' })).toBe(0);
    expect(after.find((f) => f.name === 'cadenza_store_append_seconds')?.type).toBe('HISTOGRAM');
    const values = ((await metrics.registry.getSingleMetric('cadenza_store_append_seconds')?.get())?.values ?? []) as { metricName?: string; value: number }[];
    const appends = values.find((v) => v.metricName === 'cadenza_store_append_seconds_count');
    // Every append of a decision since the server started: the starts above and the earlier tests', nothing else writes workflows here.
    expect(appends?.value).toBe(workflowAppends);
    expect(workflowAppends).toBeGreaterThan(0);
  });
});
