/**
 * The OpenAPI document against the answers, over a real socket: every route it lists declares its
 * 2xx answer and its problems, and every route's real answer (a worker's server with its engine, on
 * workflows that completed, compensated, paused and
 * failed to compensate) passes the schema the document gives for it,
 * read back from the document's JSON Schema (zod's `fromJSONSchema`), so a document that drifts from
 * the routes fails here. (The server writes answers with its own JSON serializer: the response
 * schemas document the routes and are checked here, not at each request.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { orderFixture, type Fixture } from './support.js';

interface Operation {
  readonly tags?: string[];
  readonly responses?: Record<string, { readonly content?: Record<string, { readonly schema?: object }> }>;
}
type Paths = Record<string, Record<string, Operation>>;

let fixture: Fixture;
let api: ApiServer;
let paths: Paths;

beforeAll(async () => {
  fixture = await orderFixture();
  api = await startApiServer({ store: fixture.store, engine: fixture.engine });
  await fixture.engine.start('order', { amount: 30 }, { workflowId: 'ok-1' });
  await fixture.engine.wait('ok-1');
  await fixture.engine.start('order', { amount: 500 }, { workflowId: 'refunded-1' });
  await fixture.engine.wait('refunded-1');
  fixture.switches.shipFails = true;
  for (const workflowId of ['paused-1', 'paused-2', 'paused-3']) {
    await fixture.engine.start('pausing-order', {}, { workflowId });
    await fixture.engine.wait(workflowId, { orPaused: true });
  }
  await fixture.engine.start('unrefundable-order', {}, { workflowId: 'unrefunded-1' });
  await fixture.engine.wait('unrefunded-1');
  fixture.switches.shipFails = false;
  const response = await fetch(`${api.url}/api/v1/openapi.json`);
  expect(response.status).toBe(200);
  paths = ((await response.json()) as { paths: Paths }).paths;
});

afterAll(async () => {
  await api?.close();
  await fixture?.close();
});

/** Every documented operation, as `METHOD /path/{param}`. */
const operations = (): string[] => Object.entries(paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));

/** A real request to a documented route, the template it fills, and the answer the route documents for it. */
interface Call {
  readonly route: string;
  readonly url: string;
  readonly status: number;
  readonly body?: unknown;
}

/**
 * One call per documented route but the live events (text/event-stream, test/api/sse.test.ts); the
 * commands act on workflows that allow them (paused ones for retry, cancel and compensate, one whose
 * compensation failed for resolve), so each answers its success.
 */
const calls: readonly Call[] = [
  { route: 'GET /api/v1/workflows', url: '/api/v1/workflows?status=completed,compensated,paused', status: 200 },
  { route: 'GET /api/v1/workflows/{workflowId}', url: '/api/v1/workflows/refunded-1', status: 200 },
  { route: 'GET /api/v1/workflows/{workflowId}/history', url: '/api/v1/workflows/refunded-1/history?limit=3', status: 200 },
  { route: 'GET /api/v1/workflows/{workflowId}/state', url: '/api/v1/workflows/refunded-1/state?revision=3', status: 200 },
  { route: 'GET /api/v1/workflows/{workflowId}/graph', url: '/api/v1/workflows/refunded-1/graph', status: 200 },
  { route: 'GET /api/v1/workflows/{workflowId}/calls', url: '/api/v1/workflows/refunded-1/calls', status: 200 },
  { route: 'GET /api/v1/definitions', url: '/api/v1/definitions', status: 200 },
  { route: 'GET /api/v1/definitions/{definition}', url: '/api/v1/definitions/order@1', status: 200 },
  { route: 'GET /api/v1/audit', url: '/api/v1/audit?types=StepFailed,StepSucceeded&data=true', status: 200 },
  { route: 'GET /api/v1/read-models/step-metrics', url: '/api/v1/read-models/step-metrics', status: 200 },
  { route: 'GET /api/v1/read-models/agent-health', url: '/api/v1/read-models/agent-health', status: 200 },
  { route: 'GET /api/v1/read-models/projections', url: '/api/v1/read-models/projections', status: 200 },
  { route: 'POST /api/v1/workflows', url: '/api/v1/workflows', status: 201, body: { definition: 'order', input: { amount: 5 }, workflowId: 'started-1' } },
  { route: 'POST /api/v1/workflows/{workflowId}/retry', url: '/api/v1/workflows/paused-1/retry', status: 202, body: {} },
  { route: 'POST /api/v1/workflows/{workflowId}/cancel', url: '/api/v1/workflows/paused-2/cancel', status: 202, body: { reason: 'not wanted' } },
  { route: 'POST /api/v1/workflows/{workflowId}/compensate', url: '/api/v1/workflows/paused-3/compensate', status: 202, body: {} },
  { route: 'POST /api/v1/workflows/{workflowId}/fork', url: '/api/v1/workflows/refunded-1/fork', status: 201, body: { fromRevision: 3, workflowId: 'forked-1' } },
  { route: 'POST /api/v1/workflows/{workflowId}/resolve', url: '/api/v1/workflows/unrefunded-1/resolve', status: 202, body: { note: 'refund checked by hand' } },
];

describe('the OpenAPI document', () => {
  it('lists every route with its answer and its problems, the dashboard views included', () => {
    const listed = operations();
    expect(listed).toEqual(expect.arrayContaining(['GET /api/v1/workflows/{workflowId}/graph', 'GET /api/v1/workflows/{workflowId}/calls']));
    for (const route of listed) {
      if (route === 'GET /api/v1/events') continue;
      const [method, path] = route.split(' ') as [string, string];
      const responses = paths[path]![method.toLowerCase()]!.responses ?? {};
      const success = Object.entries(responses).find(([code]) => code.startsWith('2'));
      expect(success?.[1].content?.['application/json']?.schema, route).toBeDefined();
      expect(responses['4XX']?.content?.['application/json']?.schema, route).toBeDefined();
    }
  });

  it('documents the live events as text/event-stream, the content type the route answers with', async () => {
    const responses = paths['/api/v1/events']!.get!.responses!;
    expect(Object.keys(responses['200']!.content ?? {})).toEqual(['text/event-stream']);
    expect(responses['200']!.content!['text/event-stream']!.schema).toMatchObject({ type: 'string' });
    expect(responses['4XX']?.content?.['application/json']?.schema).toBeDefined();
    const controller = new AbortController();
    const response = await fetch(`${api.url}/api/v1/events?from=end`, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream\b/);
    controller.abort();
    await response.body?.cancel().catch(() => undefined);
  });

  it("describes the views' fields, so a client can read them from the document", () => {
    type Properties = { properties: Record<string, { items?: { properties: Record<string, unknown> } }> };
    const schemaOf = (path: string) => paths[path]!.get!.responses!['200']!.content!['application/json']!.schema as Properties;
    const graph = schemaOf('/api/v1/workflows/{workflowId}/graph');
    expect(Object.keys(graph.properties.steps!.items!.properties)).toEqual(['id', 'action', 'capability', 'dependsOn', 'optional', 'compensation']);
    const callsView = schemaOf('/api/v1/workflows/{workflowId}/calls');
    expect(Object.keys(callsView.properties.calls!.items!.properties)).toEqual(['stepId', 'kind', 'attempt', 'agentId', 'startedAt', 'endedAt', 'durationMs', 'outcome', 'error', 'revision']);
  });
});

/** A documented GET without parameters that the list above does not name (a route added since) is called as it is. */
const plainGets = (): Call[] => {
  const named = new Set(calls.map((call) => call.route));
  return operations()
    .filter((route) => route.startsWith('GET ') && !route.includes('{') && !named.has(route) && route !== 'GET /api/v1/events')
    .map((route) => ({ route, url: route.slice('GET '.length), status: 200 }));
};

describe('real answers against the document', () => {
  it('every route but the live events is called: those below, and any GET without parameters as it is', async () => {
    const extra = plainGets();
    const called = new Set([...calls, ...extra].map((call) => call.route));
    expect(operations().filter((route) => !called.has(route))).toEqual(['GET /api/v1/events']);
    for (const call of extra) await answersAsDocumented(call);
  });

  it.each(calls)('$route answers as documented', answersAsDocumented);

  async function answersAsDocumented({ route, url, status, body }: Call): Promise<void> {
    const [method, path] = route.split(' ') as [string, string];
    const response = await fetch(`${api.url}${url}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const answer: unknown = await response.json();
    expect(response.status, JSON.stringify(answer)).toBe(status);
    const documented = paths[path]![method.toLowerCase()]!.responses![String(status)]!.content!['application/json']!.schema!;
    const check = z.fromJSONSchema(documented as Parameters<typeof z.fromJSONSchema>[0]).safeParse(answer);
    expect(check.success ? [] : check.error.issues, `${route}: ${JSON.stringify(answer).slice(0, 300)}`).toEqual([]);
  }

  it("the views' schemas name every field they answer: an answer with one more fails the document", async () => {
    const answer = (await (await fetch(`${api.url}/api/v1/workflows/refunded-1/calls?revision=3`)).json()) as { calls: Record<string, unknown>[] };
    const documented = paths['/api/v1/workflows/{workflowId}/calls']!.get!.responses!['200']!.content!['application/json']!.schema!;
    const strict = z.fromJSONSchema(documented as Parameters<typeof z.fromJSONSchema>[0]);
    expect(strict.safeParse(answer).success).toBe(true);
    // The same answer with a field the document does not name fails the document's schema.
    expect(strict.safeParse({ ...answer, calls: answer.calls.map((call) => ({ ...call, undocumented: 1 })) }).success).toBe(false);
  });
});
