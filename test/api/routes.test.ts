/**
 * Every route's happy path through fastify's `inject` over a real store with a real engine: the
 * workflows list (filters, paging, sort), status, history, replayed state, operator commands, fork,
 * audit, read models, OpenAPI; rejected input named by field with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../src/api/server.js';
import type { ApiApp } from '../../src/api/app.js';
import { orderFixture, streamEvents, type Fixture } from './support.js';

let fixture: Fixture;
let app: ApiApp;

beforeAll(async () => {
  fixture = await orderFixture();
  // No runtime given: commands are appended directly and the engine on the same store carries them on (`cadenza serve`).
  ({ app } = await buildApiServer({ store: fixture.store }));
  await fixture.engine.start('order', { amount: 30 }, { workflowId: 'ok-1' });
  await fixture.engine.wait('ok-1');
  await fixture.engine.start('order', { amount: 500 }, { workflowId: 'refunded-1' });
  await fixture.engine.wait('refunded-1');
});

afterAll(async () => {
  await app?.close();
  await fixture?.close();
});

/** Answers are checked by value below; JSON.parse's own type keeps the assertions short. */
type Answer = ReturnType<typeof JSON.parse>;

const get = async (url: string) => {
  const response = await app.inject({ method: 'GET', url });
  return { status: response.statusCode, type: response.headers['content-type'], body: response.json<Answer>() };
};
const post = async (url: string, payload: unknown) => {
  const response = await app.inject({ method: 'POST', url, payload: payload as object });
  return { status: response.statusCode, type: response.headers['content-type'], body: response.json<Answer>() };
};

describe('workflows', () => {
  it('lists workflows with status and definition filters, a time range, paging and sort', async () => {
    const all = await get('/api/v1/workflows');
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(2);
    expect(all.body.workflows.map((w: { workflowId: string }) => w.workflowId).sort()).toEqual(['ok-1', 'refunded-1']);

    const completed = await get('/api/v1/workflows?status=completed');
    expect(completed.body.workflows.map((w: { workflowId: string; status: string }) => [w.workflowId, w.status])).toEqual([['ok-1', 'completed']]);
    expect((await get('/api/v1/workflows?status=completed,compensated')).body.total).toBe(2);
    expect((await get('/api/v1/workflows?definition=nope')).body.total).toBe(0);
    expect((await get(`/api/v1/workflows?startedFrom=${new Date(Date.now() + 60_000).toISOString()}`)).body.total).toBe(0);
    expect((await get('/api/v1/workflows?startedFrom=2020-01-01T00:00:00Z&startedTo=2999-01-01T00:00:00Z')).body.total).toBe(2);

    const firstPage = await get('/api/v1/workflows?limit=1&sort=startedAt&order=asc');
    expect(firstPage.body).toMatchObject({ total: 2, offset: 0, nextOffset: 1 });
    expect(firstPage.body.workflows[0].workflowId).toBe('ok-1');
    const secondPage = await get('/api/v1/workflows?limit=1&offset=1&sort=startedAt&order=asc');
    expect(secondPage.body).toMatchObject({ nextOffset: null });
    expect(secondPage.body.workflows[0].workflowId).toBe('refunded-1');
  });

  it("serves one workflow's status view, and a problem for an unknown one", async () => {
    const view = await get('/api/v1/workflows/refunded-1');
    expect(view.body).toMatchObject({ workflowId: 'refunded-1', name: 'order', status: 'compensated', compensation: { compensated: ['charge'] } });
    const unknown = await get('/api/v1/workflows/nobody');
    expect(unknown.status).toBe(404);
    expect(unknown.type).toContain('application/problem+json');
    expect(unknown.body).toMatchObject({ status: 404, title: 'Not Found' });
  });

  it('serves the history in order, paged by revision', async () => {
    const recorded = await streamEvents(fixture.store, 'ok-1');
    const history = await get('/api/v1/workflows/ok-1/history');
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual(recorded.map((e) => e.type));
    expect(history.body.nextRevision).toBeNull();
    const page = await get('/api/v1/workflows/ok-1/history?fromRevision=1&limit=2');
    expect(page.body.events.map((e: { revision: number }) => e.revision)).toEqual([1, 2]);
    expect(page.body.nextRevision).toBe(3);
  });

  it('replays the state at a revision and at a time', async () => {
    const atStart = await get('/api/v1/workflows/ok-1/state?revision=0');
    expect(atStart.body).toMatchObject({ events: 1, lastEvent: { revision: 0, type: 'WorkflowStarted' }, state: { status: 'running' } });
    const now = await get(`/api/v1/workflows/ok-1/state?at=${new Date(Date.now() + 1000).toISOString()}`);
    expect(now.body.state.status).toBe('completed');
    expect(now.body.state.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([['charge', 'succeeded'], ['ship', 'succeeded']]);
    const both = await get('/api/v1/workflows/ok-1/state?revision=0&at=2026-01-01T00:00:00Z');
    expect(both.status).toBe(400);
  });
});

describe('operator commands and fork', () => {
  it('retries a paused workflow: the engine on the store resumes it', async () => {
    fixture.switches.shipFails = true;
    await fixture.engine.start('pausing-order', { amount: 1 }, { workflowId: 'paused-1' });
    expect((await fixture.engine.wait('paused-1', { orPaused: true })).status).toBe('paused');
    fixture.switches.shipFails = false;
    const retried = await post('/api/v1/workflows/paused-1/retry', {});
    expect(retried.status).toBe(202);
    expect(retried.body.events.map((e: { type: string }) => e.type)).toContain('WorkflowResumed');
    expect((await fixture.engine.wait('paused-1')).status).toBe('completed');
  });

  it('cancels, compensates and resolves, and rejects a command the state does not allow with 409', async () => {
    fixture.switches.shipFails = true;
    for (const id of ['to-cancel', 'to-compensate']) {
      await fixture.engine.start('pausing-order', { amount: 1 }, { workflowId: id });
      await fixture.engine.wait(id, { orPaused: true });
    }
    await fixture.engine.start('unrefundable-order', { amount: 1 }, { workflowId: 'to-resolve' });
    expect((await fixture.engine.wait('to-resolve')).status).toBe('compensationFailed');
    expect((await post('/api/v1/workflows/to-cancel/cancel', { reason: 'customer left' })).status).toBe(202);
    expect((await fixture.engine.wait('to-cancel')).status).toBe('cancelled');
    expect((await post('/api/v1/workflows/to-compensate/compensate', { reason: 'operator' })).status).toBe(202);
    expect((await fixture.engine.wait('to-compensate')).status).toBe('compensated');
    const resolved = await post('/api/v1/workflows/to-resolve/resolve', { note: 'shipped by hand' });
    expect(resolved.status).toBe(202);
    expect((await fixture.engine.wait('to-resolve')).status).toBe('resolved');
    fixture.switches.shipFails = false;

    const before = await streamEvents(fixture.store, 'ok-1');
    const rejected = await post('/api/v1/workflows/ok-1/retry', {});
    expect(rejected.status).toBe(409);
    expect(rejected.type).toContain('application/problem+json');
    expect(await streamEvents(fixture.store, 'ok-1')).toHaveLength(before.length);
  });

  it('forks a workflow from a revision; a hosting runtime adopts the fork and runs it', async () => {
    const forked = await post('/api/v1/workflows/ok-1/fork', { fromRevision: 2, workflowId: 'ok-1-again' });
    expect(forked.status).toBe(201);
    expect(forked.body).toMatchObject({ workflowId: 'ok-1-again', sourceWorkflowId: 'ok-1', fromRevision: 2, reused: ['charge'] });
    expect((await get('/api/v1/workflows/ok-1-again')).body.workflowId).toBe('ok-1-again');
    expect((await post('/api/v1/workflows/ok-1/fork', { fromRevision: 2, workflowId: 'ok-1-again' })).status).toBe(409);

    const { app: hosted } = await buildApiServer({ store: fixture.store, runtime: fixture.engine.runtime });
    try {
      const adopted = await hosted.inject({ method: 'POST', url: '/api/v1/workflows/ok-1/fork', payload: { fromRevision: 2, workflowId: 'ok-1-hosted' } });
      expect(adopted.statusCode).toBe(201);
      expect((await fixture.engine.wait('ok-1-hosted')).status).toBe('completed');
    } finally {
      await hosted.close();
    }
  });

  it('rejects a body or query that fails its schema, naming the field, and writes nothing', async () => {
    const before = await streamEvents(fixture.store, 'refunded-1');
    const missing = await post('/api/v1/workflows/refunded-1/resolve', {});
    expect(missing.status).toBe(400);
    expect(missing.type).toContain('application/problem+json');
    expect(missing.body.detail).toContain('body.note');
    expect(missing.body.invalidFields[0].field).toBe('body.note');
    const wrongType = await post('/api/v1/workflows/refunded-1/compensate', { reason: 5 });
    expect(wrongType.body.invalidFields[0].field).toBe('body.reason');
    const extra = await post('/api/v1/workflows/refunded-1/fork', { fromRevision: -1 });
    expect(extra.body.invalidFields[0].field).toBe('body.fromRevision');
    const notJson = await app.inject({ method: 'POST', url: '/api/v1/workflows/refunded-1/compensate', payload: '{"reason":', headers: { 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.headers['content-type']).toContain('application/problem+json');
    expect(await streamEvents(fixture.store, 'refunded-1')).toHaveLength(before.length);

    const badId = await post('/api/v1/workflows/refunded-1/fork', { fromRevision: 1, workflowId: 'no spaces' });
    expect(badId.status).toBe(400);
    expect(badId.body.detail).toMatch(/^body\.workflowId: Invalid workflow id "no spaces"/);
    expect((await get('/api/v1/workflows/bad%20id')).body.invalidFields[0].field).toBe('params.workflowId');

    const badQuery = await get('/api/v1/workflows?limit=0&status=sleeping');
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.invalidFields.map((f: { field: string }) => f.field).sort()).toEqual(['querystring.limit', 'querystring.status']);
  });
});

describe('audit and read models', () => {
  it("answers audit queries with the CLI's filters, paged by position", async () => {
    const recorded = await streamEvents(fixture.store, 'refunded-1');
    const audit = await get('/api/v1/audit?workflowId=refunded-1&limit=1000');
    expect(audit.body.events.map((e: { type: string }) => e.type)).toEqual(recorded.map((e) => e.type));
    const failures = await get('/api/v1/audit?workflowId=refunded-1&types=StepFailed,CompensationSucceeded');
    expect(failures.body.events.map((e: { type: string }) => e.type)).toEqual(['StepFailed', 'CompensationSucceeded']);
    const first = await get('/api/v1/audit?workflowId=refunded-1&limit=2&data=true');
    expect(first.body.events[0].data.workflowId).toBe('refunded-1');
    const rest = await get(`/api/v1/audit?workflowId=refunded-1&limit=1000&after=${first.body.next as string}`);
    expect(rest.body.events).toHaveLength(recorded.length - 2);
  });

  it('serves step metrics, agent health and projection lag', async () => {
    const metrics = await get('/api/v1/read-models/step-metrics?definition=order');
    const charge = metrics.body.steps.find((s: { stepId: string }) => s.stepId === 'charge');
    expect(charge).toMatchObject({ definition: 'order', succeeded: expect.any(Number) });
    expect(metrics.body.agents.map((a: { agentId: string }) => a.agentId)).toEqual(expect.arrayContaining(['payments-1', 'shipping-1']));
    const health = await get('/api/v1/read-models/agent-health');
    expect(health.body.agents.map((a: { agentId: string }) => a.agentId)).toEqual(expect.arrayContaining(['payments-1', 'shipping-1']));
    const lag = await get('/api/v1/read-models/projections');
    expect(lag.body.projections.map((p: { projection: string }) => p.projection)).toEqual(['workflow-status', 'step-metrics', 'agent-health', 'audit-index']);
    const stepMetrics = lag.body.projections.find((p: { projection: string }) => p.projection === 'step-metrics');
    expect(stepMetrics.checkpoint).toMatch(/^\d+\/\d+$/);
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const doc = await get('/api/v1/openapi.json');
    expect(doc.body.openapi).toMatch(/^3\./);
    const list = doc.body.paths['/api/v1/workflows'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['status', 'definition', 'startedFrom', 'limit', 'offset']));
    const resolve = doc.body.paths['/api/v1/workflows/{workflowId}/resolve'].post;
    expect(resolve.requestBody.content['application/json'].schema.required).toEqual(['note']);
    // That every route documents its answer, and answers as documented: test/api/openapi.test.ts.
    expect(doc.body.paths['/api/v1/workflows/{workflowId}'].get.responses['200'].content['application/json'].schema.properties.definitionHash).toBeDefined();
    expect((await get('/healthz')).body).toEqual({ status: 'ok' });
  });
});
