/**
 * `/metrics` beside a runtime when the log gets there first: the log brings a workflow to its end
 * before the runtime's transitions of it arrive (another process ended it while this runtime's
 * transition of its start was still on the way, or a second runtime hosting the same definitions
 * folded another's workflow later than the log did). Every event must still count once. The
 * runtime's real transitions are recorded and held back, then handed to the counters after the log
 * has counted each workflow to its end, and the counters must equal the log's alone.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRuntime } from '../../src/api/app.js';
import { ApiMetrics } from '../../src/api/metrics.js';
import type { TransitionsListener } from '../../src/saga/runtime/index.js';
import { orderFixture, type Fixture } from './support.js';

let fixture: Fixture;
/** The runtime's decisions as it told them, in order. */
const recorded: Parameters<TransitionsListener>[] = [];
/** The held-back feed's listener: /metrics' own, given nothing until the test hands the decisions over. */
let handOver: TransitionsListener | undefined;
let beside: ApiMetrics;
let logOnly: ApiMetrics;

beforeAll(async () => {
  fixture = await orderFixture();
  const { runtime } = fixture.engine;
  const stopRecording = runtime.onTransitions!((...decision) => recorded.push(decision));
  await fixture.engine.start('order', { amount: 30 }, { workflowId: 'shipped' });
  await fixture.engine.start('order', { amount: 500 }, { workflowId: 'refunded' });
  await fixture.engine.wait('shipped');
  await fixture.engine.wait('refunded');
  fixture.switches.shipFails = true;
  await fixture.engine.start('pausing-order', {}, { workflowId: 'cancelled' });
  await fixture.engine.wait('cancelled', { orPaused: true });
  await fixture.engine.cancel('cancelled', 'not wanted');
  await fixture.engine.wait('cancelled');
  stopRecording();
  // The engine's commands, with its transitions held back: they reach the counters only when the test hands them over.
  const late: ApiRuntime = {
    retry: (id) => runtime.retry(id),
    compensate: (id, reason) => runtime.compensate(id, reason),
    cancel: (id, reason) => runtime.cancel(id, reason),
    resolve: (id, note) => runtime.resolve(id, note),
    onTransitions: (listener) => {
      handOver = listener;
      return () => (handOver = undefined);
    },
  };
  beside = new ApiMetrics(fixture.store, { runtime: late });
  logOnly = new ApiMetrics(fixture.store);
  beside.start();
  logOnly.start();
});

afterAll(async () => {
  await beside?.stop();
  await logOnly?.stop();
  await fixture?.close();
});

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];
const workflowFamilies = (text: string): Family[] => parsePrometheusTextFormat(text).filter((family) => /^cadenza_(workflows|step|compensation)/.test(family.name));

function sample(families: Family[], name: string, labels: Record<string, string>): number {
  const found = families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found ? Number(found.value ?? found.count) : 0;
}

describe('/metrics when the log brings whole workflows before the runtime’s transitions of them', () => {
  it('counts each event once when the held-back transitions arrive after the log counted the workflows to their end', async () => {
    const before = workflowFamilies(await beside.scrape());
    expect(sample(before, 'cadenza_workflows_started_total', { definition: 'order' })).toBe(2);
    expect(recorded.flatMap(([, events]) => events).filter((event) => event.type === 'WorkflowStarted')).toHaveLength(3);
    expect(handOver).toBeDefined();

    for (const decision of recorded) handOver?.(...decision);

    const after = workflowFamilies(await beside.scrape());
    expect(sample(after, 'cadenza_workflows_started_total', { definition: 'order' })).toBe(2);
    expect(sample(after, 'cadenza_workflows_started_total', { definition: 'pausing-order' })).toBe(1);
    expect(sample(after, 'cadenza_workflows_in_flight', { definition: 'order' })).toBe(0);
    expect(sample(after, 'cadenza_workflows_in_flight', { definition: 'pausing-order' })).toBe(0);
    expect(sample(after, 'cadenza_workflows_ended_total', { definition: 'pausing-order', status: 'cancelled' })).toBe(1);
    expect(after).toEqual(workflowFamilies(await logOnly.scrape()));
  });
});
