/**
 * `/metrics` resumed from its checkpoint: a server that stops saves its fold in the read-model
 * database, and the next one over the same store and database folds on from the saved position,
 * reading none of the events the checkpoint covers, with counters that still agree with the whole
 * history (the engine's workflows, counted ahead of the log by its transitions, included). A
 * checkpoint of another store is not used.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsCheckpoint } from '../../src/api/metrics-checkpoint.js';
import { buildApiServer } from '../../src/api/server.js';
import { openReadModelDb, type ReadModelDb } from '../../src/projections/readmodel-db.js';
import type { EventStore, SubscribeToAllOptions } from '../../src/store/port.js';
import { orderFixture, streamEvents, type Fixture } from './support.js';

let fixture: Fixture;
let db: ReadModelDb;
/** What the metrics folds asked the store for: where each started, and the workflow events each was handed. */
const folds: { from: SubscribeToAllOptions['fromPosition']; workflowEvents: number }[] = [];

/** The fixture's real store, its `/metrics` subscriptions (the ones following agent streams too) recorded. */
function recording(store: EventStore): EventStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'subscribeToAll') return Reflect.get(target, key, receiver) as unknown;
      return (options: SubscribeToAllOptions) => {
        const subscription = target.subscribeToAll(options);
        const prefixes = options.filter && 'streamNamePrefix' in options.filter ? (options.filter.streamNamePrefix ?? []) : [];
        if (!prefixes.some((prefix) => prefix.startsWith('agent'))) return subscription;
        const fold = { from: options.fromPosition, workflowEvents: 0 };
        folds.push(fold);
        return {
          unsubscribe: () => subscription.unsubscribe(),
          async *[Symbol.asyncIterator]() {
            for await (const message of subscription) {
              if (message.kind === 'event' && message.event.stream.startsWith('workflow-')) fold.workflowEvents++;
              yield message;
            }
          },
        };
      };
    },
  });
}

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];
const workflowCounters = ['cadenza_workflows_started_total', 'cadenza_workflows_ended_total', 'cadenza_workflows_in_flight', 'cadenza_step_attempts_total', 'cadenza_step_failures_total', 'cadenza_compensations_total', 'cadenza_step_duration_seconds'];

function sample(families: Family[], name: string, labels: Record<string, string>): number {
  const found = families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found ? Number(found.value ?? found.count) : 0;
}

/** A server's scrape, then the server closed (which saves its fold). */
async function scrapeOnce(options: { engine?: boolean; store?: EventStore; readModels?: ReadModelDb } = {}): Promise<Family[]> {
  const { app } = await buildApiServer({ store: options.store ?? recording(fixture.store), readModels: options.readModels ?? db, ...(options.engine ? { engine: fixture.engine } : {}) });
  try {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    return parsePrometheusTextFormat(response.body).filter((family) => workflowCounters.includes(family.name));
  } finally {
    await app.close();
  }
}

async function run(ids: readonly string[]): Promise<void> {
  for (const id of ids) await fixture.engine.start('order', { amount: id.includes('refund') ? 500 : 10 }, { workflowId: id });
  for (const id of ids) await fixture.engine.wait(id);
}

const history = async (ids: readonly string[]) => (await Promise.all(ids.map((id) => streamEvents(fixture.store, id)))).flat();

beforeAll(async () => {
  fixture = await orderFixture();
  db = openReadModelDb(':memory:');
});

afterAll(async () => {
  db?.close();
  await fixture?.close();
});

describe('/metrics resumed from its checkpoint', () => {
  const first = ['c-1', 'c-2', 'c-refund-1'];
  const beside = ['c-3', 'c-4', 'c-5', 'c-refund-2'];
  const after = ['c-6'];

  it('reads none of the events the checkpoint covers, and counts as the whole history says', async () => {
    await run(first);
    const fromStart = await scrapeOnce();
    expect(folds.at(-1)).toEqual({ from: 'start', workflowEvents: (await history(first)).length });

    // Beside the engine: its workflows counted from its transitions, some ahead of the log when it
    // stops; one paused first, then retried after the restart (the checkpoint must know it started).
    const { app } = await buildApiServer({ store: recording(fixture.store), readModels: db, engine: fixture.engine });
    fixture.switches.shipFails = true;
    await fixture.engine.start('pausing-order', {}, { workflowId: 'c-paused' });
    await fixture.engine.wait('c-paused', { orPaused: true });
    fixture.switches.shipFails = false;
    await run(beside);
    await app.inject({ method: 'GET', url: '/metrics' });
    await app.close();
    expect(folds.at(-1)!.from).not.toBe('start');

    await run(after);
    await fixture.engine.retry('c-paused');
    await fixture.engine.wait('c-paused');
    const saved = new MetricsCheckpoint(db).load()!;
    let behind = 0;
    for await (const _event of fixture.store.readAll({ fromPosition: saved.position, filter: { streamNamePrefix: ['workflow-'] } })) behind++;
    const resumed = await scrapeOnce();
    const fold = folds.at(-1)!;
    expect(fold.from).toEqual(saved.position);
    // Only what the log holds after the saved position: the workflow run while no server was up, and
    // at most a few of the engine's last events (its fold notes its position every 32 events it skips).
    expect(fold.workflowEvents).toBe(behind);
    const sinceRestart = (await history(after)).length + (await history(['c-paused'])).filter((event) => event.position.commit > saved.position.commit).length;
    expect(behind).toBeGreaterThanOrEqual(sinceRestart);
    expect(behind).toBeLessThan(sinceRestart + 32);

    const all = await history([...first, ...beside, ...after]);
    expect(sample(resumed, 'cadenza_workflows_ended_total', { definition: 'pausing-order', status: 'completed' })).toBe(1);
    expect(sample(resumed, 'cadenza_step_attempts_total', { definition: 'pausing-order', step: 'ship', agent: 'shipping-1' })).toBe(2);
    const count = (type: string) => all.filter((event) => event.type === type).length;
    expect(sample(resumed, 'cadenza_workflows_started_total', { definition: 'order' })).toBe(first.length + beside.length + after.length);
    expect(sample(resumed, 'cadenza_workflows_ended_total', { definition: 'order', status: 'completed' })).toBe(count('WorkflowCompleted'));
    expect(sample(resumed, 'cadenza_workflows_ended_total', { definition: 'order', status: 'compensated' })).toBe(2);
    expect(sample(resumed, 'cadenza_step_attempts_total', { definition: 'order', step: 'ship', agent: 'shipping-1' })).toBe(all.filter((e) => e.type === 'StepScheduled' && (e.data as { stepId?: string }).stepId === 'ship').length);
    expect(sample(resumed, 'cadenza_compensations_total', { definition: 'order', step: 'charge' })).toBe(count('CompensationScheduled'));
    expect(sample(resumed, 'cadenza_workflows_in_flight', { definition: 'order' })).toBe(0);
    expect(sample(fromStart, 'cadenza_workflows_started_total', { definition: 'order' })).toBe(first.length);

    // The same counters as a fold of the whole log from its start, with no checkpoint.
    const fresh = openReadModelDb(':memory:');
    try {
      expect(await scrapeOnce({ readModels: fresh })).toEqual(resumed);
      expect(folds.at(-1)!.from).toBe('start');
    } finally {
      fresh.close();
    }
  });

  it('closes a server whose store closed first, keeping the checkpoint it had', async () => {
    const other = await orderFixture();
    const readModels = openReadModelDb(':memory:');
    try {
      await other.engine.start('order', { amount: 10 }, { workflowId: 'gone-1' });
      await other.engine.wait('gone-1');
      const { app } = await buildApiServer({ store: other.store, readModels });
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      await other.close();
      await expect(app.close()).resolves.toBeUndefined();
    } finally {
      readModels.close();
    }
  });

  it("does not use another store's checkpoint: that store's log is folded from its start", async () => {
    const other = await orderFixture();
    try {
      await other.engine.start('order', { amount: 10 }, { workflowId: 'elsewhere-1' });
      await other.engine.wait('elsewhere-1');
      const families = await scrapeOnce({ store: recording(other.store) });
      expect(folds.at(-1)!.from).toBe('start');
      expect(sample(families, 'cadenza_workflows_started_total', { definition: 'order' })).toBe(1);
    } finally {
      await other.close();
    }
  });
});
