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
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
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
    let received: { key?: string; body?: unknown } = {};
    const url = await agentServer((request, body, response) => {
      received = { key: request.headers['idempotency-key'] as string, body: JSON.parse(body) };
      respond(200, { ok: true, output: { price: 42 } })(request, body, response);
    });
    expect(await invokeOnce(url)).toEqual({ ok: true, output: { price: 42 } });
    expect(received.key).toBe('wf-1:step-a');
    expect(received.body).toMatchObject({ workflowId: 'wf-1', stepId: 'step-a', action: 'work', input: { n: 1 } });
  });

  it('classifies error statuses: 5xx and 429 retryable, other 4xx not', async () => {
    let status = 503;
    const url = await agentServer((request, body, response) => respond(status, { message: 'nope' })(request, body, response));
    expect(await invokeOnce(url)).toMatchObject({ ok: false, error: { code: 'http-503', retryable: true } });
    status = 429;
    expect(await invokeOnce(url)).toMatchObject({ ok: false, error: { retryable: true } });
    status = 400;
    expect(await invokeOnce(url)).toMatchObject({ ok: false, error: { code: 'http-400', retryable: false } });
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
    expect(await invokeOnce(url)).toMatchObject({ ok: false, error: { code: 'unreachable', retryable: true } });
  });
});
