/**
 * `/metrics` in a worker-style process (an engine and the API together), where the counters are fed
 * from the runtime's transitions after a catch-up from the log: every workflow counted exactly once,
 * those that ran before the server started, those this engine runs live, and those of a definition
 * it does not host, started by another engine on the same store. Checked against the history and
 * against `cadenza serve`'s path (no engine: the log alone), which must render the same counters;
 * and the log subscription must really pass over the engine's own appends, or nothing was saved.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../src/api/app.js';
import { buildApiServer } from '../../src/api/server.js';
import { createEngine, defineAgent, type Engine } from '../../src/engine/index.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore, SubscribeToAllOptions, Subscription } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { order, streamEvents } from './support.js';

/** Hosted only by the other engine. */
const parcel = workflow('parcel').step({ id: 'post', action: 'post', capability: 'post' }).build();

let store: EventStore;
let worker: Engine;
let other: Engine;
let workerApi: ApiApp;
let serveApi: ApiApp;
/** Workflow events the metrics subscription of the worker's API was handed, by workflow id. */
const delivered = new Map<string, number>();
/** Workflow events the worker's runtime folded (its transitions), by workflow id. */
const folded = new Map<string, number>();
const before = ['w-before-ok', 'w-before-refund'];
const live = ['w-live-1', 'w-live-2', 'w-live-3', 'w-live-refund'];
const foreign = ['p-1', 'p-2', 'p-3'];

/** Charges above 100 fail their shipment: those workflows compensate. */
const orderAgents = [
  defineAgent({ id: 'payments-1', capabilities: ['payments'], handlers: { charge: async () => ({ paymentId: 'p' }), refund: async () => ({ refunded: true }) } }),
  defineAgent({
    id: 'shipping-1',
    capabilities: ['shipping'],
    handlers: {
      ship: async (input) => {
        if (((input as { amount?: number } | null)?.amount ?? 0) > 100) throw new Error('no courier');
        return { shipped: true };
      },
    },
  }),
];

const amountOf = (id: string) => (id.includes('refund') ? 500 : 10);

beforeAll(async () => {
  const real = await openStore('memory:');
  // The real store; the worker API's metrics subscription (it follows agent streams too, and skips) is counted as it is read.
  store = new Proxy(real, {
    get(target, key, receiver) {
      if (key !== 'subscribeToAll') return Reflect.get(target, key, receiver) as unknown;
      return (options: SubscribeToAllOptions) => {
        const subscription = target.subscribeToAll(options);
        const prefixes = options.filter && 'streamNamePrefix' in options.filter ? (options.filter.streamNamePrefix ?? []) : [];
        if (!options.skip || !prefixes.some((prefix) => prefix.startsWith('agent'))) return subscription;
        const counted: Subscription = {
          unsubscribe: () => subscription.unsubscribe(),
          async *[Symbol.asyncIterator]() {
            for await (const message of subscription) {
              if (message.kind === 'event' && message.event.stream.startsWith('workflow-')) {
                const id = message.event.stream.slice('workflow-'.length);
                delivered.set(id, (delivered.get(id) ?? 0) + 1);
              }
              yield message;
            }
          },
        };
        return counted;
      };
    },
  });
  worker = await createEngine({ store, definitions: [order], agents: orderAgents });
  worker.runtime.transitions$.subscribe(({ workflowId }) => folded.set(workflowId, (folded.get(workflowId) ?? 0) + 1));
  other = await createEngine({ store, definitions: [parcel], agents: [defineAgent({ id: 'post-1', capabilities: ['post'], handlers: { post: async () => ({ posted: true }) } })] });
  // History the worker's API catches up on from the log.
  for (const id of before) await worker.start('order', { amount: amountOf(id) }, { workflowId: id });
  for (const id of before) await worker.wait(id);
  ({ app: workerApi } = await buildApiServer({ store, engine: worker }));
  ({ app: serveApi } = await buildApiServer({ store }));
  await Promise.all([
    ...live.map((id) => worker.start('order', { amount: amountOf(id) }, { workflowId: id })),
    ...foreign.map((id) => other.start('parcel', {}, { workflowId: id })),
  ]);
  for (const id of live) await worker.wait(id);
  for (const id of foreign) await other.wait(id);
});

afterAll(async () => {
  await workerApi?.close();
  await serveApi?.close();
  await other?.stop();
  await worker?.stop();
  await store?.close();
});

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];
const counters = ['cadenza_workflows_started_total', 'cadenza_workflows_ended_total', 'cadenza_workflows_in_flight', 'cadenza_step_attempts_total', 'cadenza_step_failures_total', 'cadenza_step_timeouts_total', 'cadenza_compensations_total', 'cadenza_compensation_failures_total', 'cadenza_step_duration_seconds'];

async function scrape(app: ApiApp): Promise<Family[]> {
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  return parsePrometheusTextFormat(response.body);
}

function sample(families: Family[], name: string, labels: Record<string, string>): number {
  const found = families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found ? Number(found.value ?? found.count) : 0;
}

describe('/metrics beside an engine (the worker)', () => {
  it('counts every workflow exactly once, its own, earlier ones and another engine’s, as the history says', async () => {
    const families = await scrape(workerApi);
    const history = async (ids: readonly string[]) => (await Promise.all(ids.map((id) => streamEvents(store, id)))).flat();
    const orders = await history([...before, ...live]);
    const parcels = await history(foreign);
    const count = (events: typeof orders, type: string) => events.filter((e) => e.type === type).length;

    expect(sample(families, 'cadenza_workflows_started_total', { definition: 'order' })).toBe(before.length + live.length);
    expect(sample(families, 'cadenza_workflows_ended_total', { definition: 'order', status: 'completed' })).toBe(count(orders, 'WorkflowCompleted'));
    expect(sample(families, 'cadenza_workflows_ended_total', { definition: 'order', status: 'compensated' })).toBe(2);
    expect(sample(families, 'cadenza_step_attempts_total', { definition: 'order', step: 'ship', agent: 'shipping-1' })).toBe(count(orders, 'StepScheduled') - (before.length + live.length));
    expect(sample(families, 'cadenza_compensations_total', { definition: 'order', step: 'charge' })).toBe(count(orders, 'CompensationScheduled'));
    expect(sample(families, 'cadenza_workflows_started_total', { definition: 'parcel' })).toBe(foreign.length);
    expect(sample(families, 'cadenza_workflows_ended_total', { definition: 'parcel', status: 'completed' })).toBe(count(parcels, 'WorkflowCompleted'));
    expect(sample(families, 'cadenza_step_attempts_total', { definition: 'parcel', step: 'post', agent: 'post-1' })).toBe(foreign.length);
    expect(sample(families, 'cadenza_workflows_in_flight', { definition: 'order' })).toBe(0);
    expect(sample(families, 'cadenza_workflows_in_flight', { definition: 'parcel' })).toBe(0);
  });

  it('renders the same workflow counters as the log alone (`cadenza serve`)', async () => {
    const pick = (families: Family[]) => families.filter((f) => counters.includes(f.name));
    const [fromWorker, fromLog] = [pick(await scrape(workerApi)), pick(await scrape(serveApi))];
    expect(fromWorker.map((f) => f.name).sort()).toEqual([...counters].sort());
    expect(fromWorker).toEqual(fromLog);
  });

  it('leaves the engine’s own live appends to its transitions: the log hands over only what the engine does not fold', async () => {
    for (const id of before) expect(delivered.get(id)).toBe((await streamEvents(store, id)).length);
    // Another engine's workflow: the runtime here folds what it reads before it knows whose it is
    // (its start, at most); the log hands over every other event.
    for (const id of foreign) {
      expect(folded.get(id) ?? 0).toBeLessThanOrEqual(1);
      expect((delivered.get(id) ?? 0) + (folded.get(id) ?? 0)).toBeGreaterThanOrEqual((await streamEvents(store, id)).length);
    }
    const liveEvents = (await Promise.all(live.map((id) => streamEvents(store, id)))).flat().length;
    const liveDelivered = live.reduce((sum, id) => sum + (delivered.get(id) ?? 0), 0);
    expect(liveDelivered).toBeLessThan(liveEvents / 2);
  });
});
