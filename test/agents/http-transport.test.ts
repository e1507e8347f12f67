import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpTransport } from '../../src/agents/http-transport.js';
import { type AgentCallResult, invokeTransport } from '../../src/agents/transport.js';
import { ManualClock, call } from './support.js';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

let server: Server | undefined;

async function agentServer(handler: Handler): Promise<string> {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => handler(request, body, response));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent`;
}

afterEach(async () => {
  const open = server;
  server = undefined;
  if (!open) return;
  open.closeAllConnections();
  await new Promise((resolve) => open.close(resolve));
});

const clock = new ManualClock(Date.now());

function respond(status: number, payload: unknown): Handler {
  return (_request, _body, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(payload));
  };
}

async function invokeOnce(url: string, deadline = Date.now() + 5000): Promise<AgentCallResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), deadline - Date.now());
  try {
    return await invokeTransport(httpTransport({ url }), call(clock, { deadline }), controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

describe('http transport', () => {
  it('posts the call with its idempotency key and returns the agent result', async () => {
    let received: { key?: string; deadline?: string; body?: unknown } = {};
    const deadline = Date.now() + 5000;
    const url = await agentServer((request, body, response) => {
      received = { key: request.headers['idempotency-key'] as string, deadline: request.headers['x-cadenza-deadline'] as string, body: JSON.parse(body) };
      respond(200, { ok: true, output: { price: 42 } })(request, body, response);
    });
    expect(await invokeOnce(url, deadline)).toEqual({ ok: true, output: { price: 42 } });
    expect(received.key).toBe('wf-1:step-a');
    // The deadline travels as X-Cadenza-Deadline, an ISO time: the agent can give up when it passes.
    expect(received.deadline).toBe(new Date(deadline).toISOString());
    expect(received.body).toMatchObject({ workflowId: 'wf-1', stepId: 'step-a', action: 'work', input: { n: 1 } });
  });

  it('sends JSON with the extra headers, which may replace the defaults', async () => {
    let received: { method?: string; type?: string; auth?: string; key?: unknown; body?: unknown } = {};
    const url = await agentServer((request, body, response) => {
      received = { method: request.method, type: request.headers['content-type'], auth: request.headers.authorization, key: request.headers['idempotency-key'], body: JSON.parse(body) };
      respond(200, { ok: true, output: null })(request, body, response);
    });
    const request = call(clock);
    const transport = httpTransport({ url: new URL(url), headers: { authorization: 'Bearer t', 'idempotency-key': 'mine' } });
    expect(await invokeTransport(transport, request, new AbortController().signal)).toEqual({ ok: true, output: null });
    expect(received).toEqual({ method: 'POST', type: 'application/json', auth: 'Bearer t', key: 'mine', body: request });
  });

  it('sends through an injected fetch when given one', async () => {
    const seen: string[] = [];
    const injected: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response(JSON.stringify({ ok: true, output: 'injected' }), { status: 200 });
    };
    const transport = httpTransport({ url: 'http://agent.invalid/x', fetch: injected });
    expect(await invokeTransport(transport, call(clock), new AbortController().signal)).toEqual({ ok: true, output: 'injected' });
    expect(seen).toEqual(['http://agent.invalid/x']);
  });

  it('classifies error statuses: 5xx, 408 and 429 retryable, other 4xx not', async () => {
    let status = 503;
    const url = await agentServer((request, body, response) => respond(status, { message: 'nope' })(request, body, response));
    const outcomes: Record<number, unknown> = {};
    for (status of [500, 503, 408, 429, 400, 404, 409, 499]) {
      const result = await invokeOnce(url);
      outcomes[status] = result.ok ? 'ok' : [result.error.code, result.error.retryable];
    }
    expect(outcomes).toEqual({
      500: ['http-500', true], 503: ['http-503', true], 408: ['http-408', true], 429: ['http-429', true],
      400: ['http-400', false], 404: ['http-404', false], 409: ['http-409', false], 499: ['http-499', false],
    });
  });

  it('names the status and the agent, and fails an error status even with a success body', async () => {
    const url = await agentServer(respond(500, { ok: true, output: 'fine?' }));
    expect(await invokeOnce(url)).toEqual({ ok: false, error: { message: `HTTP 500 from ${url}`, code: 'http-500', retryable: true } });
  });

  it('reports a 2xx with a malformed body as a non-retryable invalid-result', async () => {
    let payload: unknown = { ok: 'yes' };
    const url = await agentServer((request, body, response) => {
      if (typeof payload === 'string') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(payload);
      } else respond(200, payload)(request, body, response);
    });
    for (payload of [{ ok: 'yes' }, { output: 1 }, 'not json {', '']) {
      expect(await invokeOnce(url)).toEqual({ ok: false, error: { message: `Malformed agent response from ${url}`, code: 'invalid-result', retryable: false } });
    }
  });

  it('keeps a failure the agent described in an error response', async () => {
    const url = await agentServer(respond(422, { ok: false, error: { message: 'limit', code: 'risk-limit', retryable: false } }));
    expect(await invokeOnce(url)).toEqual({ ok: false, error: { message: 'limit', code: 'risk-limit', retryable: false } });
  });

  it('times out an agent that does not answer before the deadline', async () => {
    const url = await agentServer(() => {});
    expect(await invokeOnce(url, Date.now() + 50)).toMatchObject({ ok: false, error: { code: 'timeout', retryable: true } });
  });

  it('reports an unreachable agent as retryable', async () => {
    const url = await agentServer(respond(200, {}));
    server?.close();
    const result = await invokeOnce(url);
    expect(result).toMatchObject({ ok: false, error: { code: 'unreachable', retryable: true } });
    if (!result.ok) expect(result.error.message).toBe(`HTTP request to ${url} failed: fetch failed`);
    const refusing = httpTransport({ url, fetch: () => Promise.reject('not an Error') });
    expect(await invokeTransport(refusing, call(clock), new AbortController().signal)).toEqual({
      ok: false, error: { message: `HTTP request to ${url} failed: not an Error`, code: 'unreachable', retryable: true },
    });
  });
});
