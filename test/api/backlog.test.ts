/**
 * The backlog over HTTP on a real socket: starts with a priority (201 `running` or `queued`, never
 * waiting for a slot), `GET /api/v1/backlog` (depth, oldest age, per priority, from the store) as
 * workflows are admitted, a priority out of range refused naming the field with nothing written, and
 * the route in the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { createEngine, defineAgent, type Engine } from '../../src/engine/index.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { waitFor } from '../support/wait-for.js';

const job = workflow('job').step({ id: 'work', action: 'work', capability: 'work', timeoutMs: 60_000, retry: { maxAttempts: 1 } }).build();
const gates: (() => void)[] = [];

let store: EventStore;
let engine: Engine;
let server: ApiServer;

beforeAll(async () => {
  store = await openStore('memory:');
  engine = await createEngine({
    store,
    maxInFlight: 1,
    definitions: [job],
    agents: [defineAgent({ id: 'worker', capabilities: ['work'], handlers: { work: () => new Promise((resolve) => gates.push(() => resolve({}))) } })],
  });
  server = await startApiServer({ store, engine });
});

afterAll(async () => {
  await server?.close();
  await engine?.stop();
  await store?.close();
});

async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('GET /api/v1/backlog and priorities in POST /api/v1/workflows', () => {
  it('shows what waits for a slot, per priority, and empties as workflows are admitted', async () => {
    expect((await call('GET', '/api/v1/backlog')).body).toEqual({ depth: 0, oldestStartedAt: null, oldestAgeMs: null, priorities: [] });
    const first = await call('POST', '/api/v1/workflows', { definition: 'job', workflowId: 'first' });
    expect(first).toMatchObject({ status: 201, body: { workflowId: 'first', priority: 0, status: 'running' } });
    for (const [workflowId, priority] of [['low', -5], ['high-a', 20], ['high-b', 20]] as const) {
      const started = await call('POST', '/api/v1/workflows', { definition: 'job', workflowId, priority });
      expect(started).toMatchObject({ status: 201, body: { workflowId, priority, status: 'queued' } });
    }
    const backlog = await call('GET', '/api/v1/backlog');
    expect(backlog.status).toBe(200);
    expect(backlog.body).toMatchObject({ depth: 3, priorities: [{ priority: 20, depth: 2 }, { priority: -5, depth: 1 }] });
    expect(Date.parse(backlog.body.oldestStartedAt as string)).toBeLessThanOrEqual(Date.now());
    expect(backlog.body.oldestAgeMs).toBeGreaterThanOrEqual(0);
    const queuedList = await call('GET', '/api/v1/workflows?status=queued&sort=startedAt&order=asc');
    expect((queuedList.body.workflows as { workflowId: string; priority: number }[]).map((w) => [w.workflowId, w.priority])).toEqual([['low', -5], ['high-a', 20], ['high-b', 20]]);

    // One slot: each release lets the next be admitted, highest priority first.
    for (const expectedDepth of [2, 1, 0]) {
      await waitFor(() => gates.length === 1, { what: 'the running workflow to reach its agent' });
      gates.shift()?.();
      await waitFor(async () => (await call('GET', '/api/v1/backlog')).body.depth === expectedDepth, { what: `the backlog to drop to ${expectedDepth}` });
    }
    await waitFor(() => gates.length === 1, { what: 'the last workflow to reach its agent' });
    gates.shift()?.();
    expect((await engine.wait('low')).status).toBe('completed');
  });

  it('refuses a priority out of range with a 400 naming body.priority, and writes nothing', async () => {
    const refused = await call('POST', '/api/v1/workflows', { definition: 'job', workflowId: 'too-urgent', priority: 101 });
    expect(refused.status).toBe(400);
    expect((refused.body.invalidFields as { field: string }[]).map((f) => f.field)).toEqual(['body.priority']);
    expect((await call('GET', '/api/v1/workflows/too-urgent')).status).toBe(404);
  });

  it('documents the route and its answer in the OpenAPI document', async () => {
    const openapi = (await call('GET', '/api/v1/openapi.json')).body as { paths: Record<string, { get?: { responses: Record<string, { content: Record<string, { schema: { properties?: Record<string, unknown> } }> }> } }> };
    const answer = openapi.paths['/api/v1/backlog']?.get?.responses['200']?.content['application/json']?.schema;
    expect(Object.keys(answer?.properties ?? {})).toEqual(['depth', 'oldestStartedAt', 'oldestAgeMs', 'priorities']);
  });
});
