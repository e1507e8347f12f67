/**
 * The read-only routes the dashboard draws from (src/api/routes/views.ts), through fastify inject
 * on a real engine: a workflow's DAG from its definition snapshot, and every attempt and
 * compensation with agent, times, outcome and error, also as they stood at a revision.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../src/api/app.js';
import { buildApiServer } from '../../src/api/server.js';
import { orderFixture, type Fixture } from '../api/support.js';

let fixture: Fixture;
let app: ApiApp;

beforeAll(async () => {
  fixture = await orderFixture();
  ({ app } = await buildApiServer({ store: fixture.store, runtime: fixture.engine.runtime }));
  await fixture.engine.start('order', { amount: 500 }, { workflowId: 'refunded' });
  await fixture.engine.wait('refunded');
});

afterAll(async () => {
  await app?.close();
  await fixture?.close();
});

describe('GET /api/v1/workflows/{id}/graph', () => {
  it("answers the definition snapshot's steps with their dependencies and compensations", async () => {
    const response = await app.inject({ url: '/api/v1/workflows/refunded/graph' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      workflowId: 'refunded',
      definition: { name: 'order', version: 1, hash: expect.stringMatching(/^sha256:/) },
      steps: [
        { id: 'charge', action: 'charge', capability: 'payments', dependsOn: [], optional: false, compensation: 'refund' },
        { id: 'ship', action: 'ship', capability: 'shipping', dependsOn: ['charge'], optional: false, compensation: null },
      ],
    });
  });

  it('is a 404 problem for an unknown workflow and a 400 naming the field for a bad id', async () => {
    const unknown = await app.inject({ url: '/api/v1/workflows/nope/graph' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    const bad = await app.inject({ url: '/api/v1/workflows/%20x/graph' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().invalidFields[0].field).toBe('params.workflowId');
  });
});

describe('GET /api/v1/workflows/{id}/calls', () => {
  it('lists every attempt and compensation with agent, outcome, duration and error', async () => {
    const response = await app.inject({ url: '/api/v1/workflows/refunded/calls' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.revision).toBe(8);
    expect(body.calls.map((c: { stepId: string; kind: string; attempt: number; agentId: string; outcome: string; error: string | null }) => [c.stepId, c.kind, c.attempt, c.agentId, c.outcome, c.error])).toEqual([
      ['charge', 'step', 1, 'payments-1', 'succeeded', null],
      ['ship', 'step', 1, 'shipping-1', 'failed', 'no courier (agent-error)'],
      ['charge', 'compensation', 1, 'payments-1', 'succeeded', null],
    ]);
    for (const call of body.calls) {
      expect(call.endedAt).toBeGreaterThanOrEqual(call.startedAt);
      expect(call.durationMs).toBeGreaterThanOrEqual(0);
      expect(call.startedAt).toBeGreaterThanOrEqual(body.startedAt);
    }
  });

  it('folds only up to the revision asked for: a call settled later is still running there', async () => {
    const body = (await app.inject({ url: '/api/v1/workflows/refunded/calls?revision=3' })).json();
    expect(body.revision).toBe(3);
    expect(body.calls.map((c: { stepId: string; outcome: string; endedAt: number | null }) => [c.stepId, c.outcome, c.endedAt])).toEqual([
      ['charge', 'succeeded', expect.any(Number)],
      ['ship', 'running', null],
    ]);
  });

  it('rejects a revision that is not a number, naming the field, and an unknown workflow with 404', async () => {
    const bad = await app.inject({ url: '/api/v1/workflows/refunded/calls?revision=later' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().invalidFields[0].field).toBe('querystring.revision');
    expect((await app.inject({ url: '/api/v1/workflows/nope/calls' })).statusCode).toBe(404);
  });
});
