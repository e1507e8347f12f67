/**
 * `/metrics` parsed as the Prometheus text format by a real parser, its counters checked against
 * the history of the workflows run: started and ended by definition and status, step attempts and
 * failures by step and agent, latency observations, compensations; no workflow id in any label.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../src/api/app.js';
import type { ApiMetrics } from '../../src/api/metrics.js';
import { buildApiServer } from '../../src/api/server.js';
import { orderFixture, streamEvents, type Fixture } from './support.js';

let fixture: Fixture;
let app: ApiApp;
let metrics: ApiMetrics;
const workflowIds = ['m-ok-1', 'm-ok-2', 'm-ok-3', 'm-refund-1', 'm-refund-2'];

beforeAll(async () => {
  fixture = await orderFixture();
  ({ app, metrics } = await buildApiServer({ store: fixture.store }));
  for (const id of workflowIds) await fixture.engine.start('order', { amount: id.includes('refund') ? 500 : 10 }, { workflowId: id });
  for (const id of workflowIds) await fixture.engine.wait(id);
});

afterAll(async () => {
  await app?.close();
  await fixture?.close();
});

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];

function sample(families: Family[], name: string, labels: Record<string, string>): number {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no metric family ${name}`);
  const found = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (!found) return 0;
  return Number(found.value ?? found.count);
}

/**
 * The parser folds a histogram's labelled series into one (it keeps only `le`), so the histogram's
 * per-series count is read from the registry the text was rendered from.
 */
async function observations(name: string, labels: Record<string, string>): Promise<number> {
  const family = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (family?.values ?? []) as { metricName?: string; labels: Record<string, string | number>; value: number }[];
  const series = values.find((v) => v.metricName === `${name}_count` && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return series?.value ?? 0;
}

describe('/metrics', () => {
  it('parses as the Prometheus text format and agrees with the history', async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    const families = parsePrometheusTextFormat(response.body);

    const histories = await Promise.all(workflowIds.map((id) => streamEvents(fixture.store, id)));
    const all = histories.flat();
    const count = (type: string, where: (data: Record<string, unknown>) => boolean = () => true) =>
      all.filter((e) => e.type === type && where(e.data as Record<string, unknown>)).length;

    expect(sample(families, 'cadenza_workflows_started_total', { definition: 'order' })).toBe(count('WorkflowStarted'));
    expect(sample(families, 'cadenza_workflows_ended_total', { definition: 'order', status: 'completed' })).toBe(count('WorkflowCompleted'));
    expect(sample(families, 'cadenza_workflows_ended_total', { definition: 'order', status: 'compensated' })).toBe(count('WorkflowCompensated'));
    expect(count('WorkflowCompensated')).toBe(2);
    expect(sample(families, 'cadenza_workflows_in_flight', { definition: 'order' })).toBe(0);

    for (const [step, agent] of [['charge', 'payments-1'], ['ship', 'shipping-1']] as const) {
      const of = (data: Record<string, unknown>) => data.stepId === step && data.agentId === agent;
      expect(sample(families, 'cadenza_step_attempts_total', { definition: 'order', step, agent })).toBe(count('StepScheduled', of));
      expect(sample(families, 'cadenza_step_failures_total', { definition: 'order', step, agent })).toBe(count('StepFailed', of));
      expect(await observations('cadenza_step_duration_seconds', { definition: 'order', step, agent })).toBe(count('StepSucceeded', of));
    }
    expect(families.find((f) => f.name === 'cadenza_step_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(sample(families, 'cadenza_step_failures_total', { definition: 'order', step: 'ship', agent: 'shipping-1' })).toBe(2);
    expect(sample(families, 'cadenza_compensations_total', { definition: 'order', step: 'charge' })).toBe(count('CompensationScheduled'));
    expect(sample(families, 'cadenza_compensation_failures_total', { definition: 'order', step: 'charge' })).toBe(0);
    expect(families.map((f) => f.name)).toEqual(expect.arrayContaining(['cadenza_projection_lag_events', 'cadenza_agent_circuit_state']));

    const labelValues = families.flatMap((f) => f.metrics.flatMap((m) => Object.values(m.labels ?? {})));
    for (const id of workflowIds) expect(labelValues).not.toContain(id);
  });

  it('counts a workflow run after the first scrape', async () => {
    const before = parsePrometheusTextFormat((await app.inject({ method: 'GET', url: '/metrics' })).body);
    await fixture.engine.start('order', { amount: 1 }, { workflowId: 'm-late' });
    await fixture.engine.wait('m-late');
    const after = parsePrometheusTextFormat((await app.inject({ method: 'GET', url: '/metrics' })).body);
    const completed = (families: Family[]) => sample(families, 'cadenza_workflows_ended_total', { definition: 'order', status: 'completed' });
    expect(completed(after)).toBe(completed(before) + 1);
  });
});
