/**
 * The A2A transport (src/agents/a2a/transport.ts) against peers in this process, over loopback
 * sockets: a served agent (`serveAgent`, the SDK's own server) whose handlers the test holds and
 * releases, and a node:http peer that answers what a real agent would not. docs/agents.md, "Long
 * tasks, restarts and cancellation" and "Bad peers": streaming or polling as the card and `follow`
 * say, the task reported once it outlives `recordTaskAfterMs`, a known task followed instead of sent
 * again, `tasks/cancel` on an abort but not on a detach, and each bad answer classified.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { A2aTransport, RemoteA2aAgent, serveAgent, type ServedAgent } from '../../../src/agents/a2a/index.js';
import { AgentFailure, CallDetached, type AgentCall, type AgentCallResult, type CallCancellation } from '../../../src/agents/index.js';
import { waitFor } from '../../support/wait-for.js';

/** Calls held by the served agent until the test releases them, by idempotency key. */
const gates = new Map<string, () => void>();
/** Keys whose handler saw its signal abort (the agent got tasks/cancel). */
const cancelled = new Set<string>();
let agent: ServedAgent;

function gate(key: string): Promise<void> {
  return new Promise((resolve) => gates.set(key, resolve));
}

async function release(key: string): Promise<void> {
  await waitFor(() => gates.has(key), { what: `the agent to start ${key}` });
  gates.get(key)?.();
}

beforeAll(async () => {
  agent = await serveAgent({
    name: 'held',
    skills: ['held'],
    handlers: {
      work: async (_input, ctx) => {
        ctx.signal.addEventListener('abort', () => cancelled.add(ctx.idempotencyKey));
        await gate(ctx.idempotencyKey);
        return { done: ctx.idempotencyKey };
      },
      quick: (input) => ({ echo: input }),
      ask: () => {
        throw new AgentFailure('approve the refund first', 'input-required', false);
      },
    },
  });
});

afterAll(async () => {
  for (const open of gates.values()) open();
  await agent.close();
});

/** JSON-RPC methods sent, in order, and their params (the card reads are GETs and not listed). */
let methods: string[] = [];
let params: Record<string, unknown>[] = [];
beforeEach(() => {
  methods = [];
  params = [];
});

const recording: typeof fetch = async (input, init) => {
  if (typeof init?.body === 'string') {
    const request = JSON.parse(init.body) as { method: string; params: Record<string, unknown> };
    methods.push(request.method);
    params.push(request.params);
  }
  return fetch(input, init);
};

async function transportTo(url: string, options: { follow?: 'card' | 'poll'; recordTaskAfterMs?: number } = {}): Promise<A2aTransport> {
  const remote = new RemoteA2aAgent({ id: 'held-1', url, fetch: recording, ...options });
  await remote.readCard();
  methods = [];
  params = [];
  return remote.transport;
}

let keys = 0;
function call(action: string, fields: Partial<AgentCall> = {}): AgentCall {
  keys++;
  return { workflowId: 'w', stepId: `s${keys}`, attempt: 1, action, input: { n: keys }, idempotencyKey: `w:s${keys}`, deadline: Date.now() + 30_000, kind: 'step', ...fields };
}

/** A cancellation whose taskAccepted reports land in `accepted`. */
function cancellation(): CallCancellation & { controller: AbortController; accepted: string[] } {
  const controller = new AbortController();
  const accepted: string[] = [];
  return { controller, accepted, signal: controller.signal, taskAccepted: (taskId) => accepted.push(taskId) };
}

const followModes = [
  { follow: 'poll' as const, send: 'SendMessage', follows: 'GetTask' },
  { follow: 'card' as const, send: 'SendStreamingMessage', follows: 'SubscribeToTask' },
];

describe.each(followModes)('an A2A call, following by $follow', ({ follow, send, follows }) => {
  it('follows a long task to its output and reports the task once, when it outlives recordTaskAfterMs', async () => {
    const transport = await transportTo(agent.url, { follow, recordTaskAfterMs: 0 });
    const held = call('work');
    const cancel = cancellation();
    const answer = transport.invoke(held, cancel);
    await waitFor(() => cancel.accepted.length > 0, { what: 'the task to be reported' });
    await release(held.idempotencyKey);
    expect(await answer).toEqual({ ok: true, output: { done: held.idempotencyKey } });
    expect(cancel.accepted).toHaveLength(1);
    expect(cancel.accepted[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(methods[0]).toBe(send);
    expect(methods.slice(1).every((method) => method === 'GetTask')).toBe(true);
    // The message, and for polling the answer at once (a task, not the end of it); no tenant, no other field.
    expect(params[0]).toEqual({ message: expect.objectContaining({ metadata: expect.objectContaining({ 'cadenza.idempotencyKey': held.idempotencyKey }) }) as unknown, configuration: follow === 'poll' ? { returnImmediately: true } : {} });
    for (const get of params.slice(1)) expect(get).toEqual({ id: cancel.accepted[0] });
  });

  it('does not report a task that ends before recordTaskAfterMs', async () => {
    const transport = await transportTo(agent.url, { follow, recordTaskAfterMs: 60_000 });
    const cancel = cancellation();
    expect(await transport.invoke(call('quick', { input: { x: 1 } }), cancel)).toEqual({ ok: true, output: { echo: { x: 1 } } });
    expect(cancel.accepted).toEqual([]);
    expect(methods[0]).toBe(send);
    // A task of 400 ms, past the 250 ms default: still not reported under a minute's setting.
    const held = call('work');
    const longer = cancellation();
    const answer = transport.invoke(held, longer);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await release(held.idempotencyKey);
    expect(await answer).toMatchObject({ ok: true });
    expect(longer.accepted).toEqual([]);
  });

  it('ends a task that needs input as a failure coded input-required, not retryable', async () => {
    const transport = await transportTo(agent.url, { follow });
    expect(await transport.invoke(call('ask'), cancellation())).toEqual({ ok: false, error: { message: expect.stringContaining('approve the refund first') as unknown, code: 'input-required', retryable: false } });
  });

  it('leaves the task running when the caller detaches, and the next call with its id follows it without sending again', async () => {
    const transport = await transportTo(agent.url, { follow, recordTaskAfterMs: 0 });
    const held = call('work');
    const first = cancellation();
    const stopped = transport.invoke(held, first);
    await waitFor(() => first.accepted.length > 0, { what: 'the task to be reported' });
    first.controller.abort(new CallDetached());
    expect(await stopped).toEqual({ ok: false, error: { message: 'agent "held-1" (' + agent.url + '): call stopped', code: 'cancelled', retryable: false } });

    methods = [];
    params = [];
    const again = cancellation();
    const followed = transport.invoke({ ...held, attempt: 1, taskId: first.accepted[0] as string }, again);
    await waitFor(() => methods.includes(follow === 'poll' ? 'GetTask' : follows), { what: `the transport to follow the task (${follows})` });
    await release(held.idempotencyKey);
    expect(await followed).toEqual({ ok: true, output: { done: held.idempotencyKey } });
    expect(methods[0]).toBe('GetTask');
    expect(params.every((sent) => JSON.stringify(sent) === JSON.stringify({ id: first.accepted[0] }))).toBe(true);
    expect(methods).not.toContain(send);
    expect(methods).not.toContain('CancelTask');
    expect(again.accepted).toEqual([]); // already recorded
    expect(cancelled.has(held.idempotencyKey)).toBe(false);
    expect(agent.runs.get('work')).toBeGreaterThan(0);
  });

  it('cancels the task at the agent when the call is aborted', async () => {
    const transport = await transportTo(agent.url, { follow, recordTaskAfterMs: 0 });
    const held = call('work');
    const cancel = cancellation();
    const answer = transport.invoke(held, cancel);
    await waitFor(() => cancel.accepted.length > 0, { what: 'the task to be reported' });
    cancel.controller.abort(new Error('deadline'));
    expect(await answer).toMatchObject({ ok: false, error: { code: 'cancelled', retryable: false } });
    await waitFor(() => cancelled.has(held.idempotencyKey), { what: 'the agent to see its task cancelled' });
    expect(params[methods.indexOf('CancelTask')]).toEqual({ id: cancel.accepted[0] });
  });

  it('follows a task given by id that has already ended, with one GetTask', async () => {
    const transport = await transportTo(agent.url, { follow, recordTaskAfterMs: 0 });
    const held = call('work');
    const first = cancellation();
    const answer = transport.invoke(held, first);
    await waitFor(() => first.accepted.length > 0, { what: 'the task to be reported' });
    await release(held.idempotencyKey);
    expect(await answer).toMatchObject({ ok: true });
    methods = [];
    params = [];
    expect(await transport.invoke({ ...held, taskId: first.accepted[0] as string }, cancellation())).toEqual({ ok: true, output: { done: held.idempotencyKey } });
    await new Promise((resolve) => setTimeout(resolve, 50)); // a tasks/cancel would be sent by now
    expect(methods).toEqual(['GetTask']);
    expect(params).toEqual([{ id: first.accepted[0] }]);
  });
});

describe('an A2A call with the default options', () => {
  it('reports a task still running 250 ms after the call started, and not a task that ended before', async () => {
    const transport = await transportTo(agent.url, { follow: 'poll' });
    const quick = cancellation();
    expect(await transport.invoke(call('quick'), quick)).toMatchObject({ ok: true });
    expect(quick.accepted).toEqual([]);
    const held = call('work');
    const slow = cancellation();
    const answer = transport.invoke(held, slow);
    await waitFor(() => slow.accepted.length > 0, { what: 'the task to be reported after 250 ms' });
    await release(held.idempotencyKey);
    expect(await answer).toEqual({ ok: true, output: { done: held.idempotencyKey } });
    expect(slow.accepted).toHaveLength(1);
  });
});

describe('an A2A call before the card is read', () => {
  it('fails unreachable and retryable, and sends nothing', async () => {
    const transport = new A2aTransport({ name: 'agent "x"', card: () => undefined, fetch: recording });
    expect(await transport.invoke(call('quick'), cancellation())).toEqual({ ok: false, error: { message: 'agent "x": its agent card has not been read yet', code: 'unreachable', retryable: true } });
    expect(methods).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// A peer that answers what the test tells it to, per path: /<mode>/a2a, its card at /<mode>/.

type Reply = (request: IncomingMessage, response: ServerResponse, rpc: { method: string; id: unknown }) => void;
let peer: Server;
let peerBase = '';
const replies = new Map<string, Reply>();

function card(mode: string, streaming: boolean): object {
  return {
    name: mode, description: 'a scripted peer', version: '1.0.0',
    supportedInterfaces: [{ url: `${peerBase}/${mode}/a2a`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
    capabilities: { streaming, pushNotifications: false, extensions: [] },
    securitySchemes: {}, securityRequirements: [], defaultInputModes: ['application/json'], defaultOutputModes: ['application/json'],
    skills: [{ id: mode, name: mode, description: mode, tags: [], examples: [], inputModes: [], outputModes: [], securityRequirements: [] }],
    signatures: [],
  };
}

const json = (response: ServerResponse, status: number, body: unknown): void => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};
const taskJson = (state: string, artifacts: unknown[] = []): object => ({ id: 'peer-task', contextId: 'c', status: { state, timestamp: '2026-12-01T00:00:00Z' }, artifacts, history: [] });
const sse = (response: ServerResponse, events: unknown[]): void => {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const event of events) response.write(`data: ${JSON.stringify(event)}\n\n`);
  response.end();
};

beforeAll(async () => {
  peer = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const mode = (request.url ?? '').split('/')[1] ?? '';
      if (request.method === 'GET') {
        const served = card(mode, mode.startsWith('stream')) as { capabilities?: unknown };
        if (mode === 'no-capabilities') delete served.capabilities;
        json(response, 200, served);
        return;
      }
      const rpc = JSON.parse(body) as { method: string; id: unknown };
      const reply = replies.get(mode);
      if (reply) reply(request, response, rpc);
      else json(response, 404, { error: 'no such mode' });
    });
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  peerBase = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  peer.closeAllConnections();
  await new Promise((resolve) => peer.close(resolve));
});

async function invokePeer(mode: string, reply: Reply, options: { follow?: 'card' | 'poll' } = {}): Promise<AgentCallResult> {
  replies.set(mode, reply);
  const transport = await transportTo(`${peerBase}/${mode}`, { ...options, recordTaskAfterMs: 60_000 });
  return transport.invoke(call('work'), cancellation());
}

describe('an A2A peer that answers badly', () => {
  it('names the HTTP status of an answer that is not A2A: unauthorized for 401 and 403, retryable for 5xx, 408 and 429 only', async () => {
    const cases: [number, string, boolean][] = [[401, 'unauthorized', true], [403, 'unauthorized', true], [500, 'http-500', true], [503, 'http-503', true], [408, 'http-408', true], [429, 'http-429', true], [404, 'http-404', false], [400, 'http-400', false], [499, 'http-499', false]];
    for (const [status, code, retryable] of cases) {
      const result = await invokePeer(`status-${status}`, (_request, response) => response.writeHead(status, { 'content-type': 'text/html' }).end('<h1>no</h1>'));
      expect(result, `HTTP ${status}`).toMatchObject({ ok: false, error: { code, retryable } });
      if (!result.ok) expect(result.error.message).toContain(`HTTP ${status}`);
    }
    // 401 without any content type at all, and 403 with a JSON body (not JSON-RPC), too.
    expect(await invokePeer('bare-401', (_request, response) => response.writeHead(401).end())).toMatchObject({ error: { code: 'unauthorized' } });
    expect(await invokePeer('json-403', (_request, response) => json(response, 403, { error: 'the bearer token is wrong' }))).toMatchObject({ error: { code: 'unauthorized', message: expect.stringContaining('HTTP 403') as unknown } });
  });

  it('leaves an error status with a JSON body to JSON-RPC: its error says more', async () => {
    const result = await invokePeer('json-500', (_request, response, rpc) => json(response, 500, { jsonrpc: '2.0', id: rpc.id, error: { code: -32603, message: 'disk full' } }));
    expect(result).toMatchObject({ ok: false, error: { code: 'jsonrpc-error', retryable: true, message: expect.stringContaining('disk full') as unknown } });
  });

  it('refuses a message where a task was due', async () => {
    const message = { messageId: 'm', contextId: '', taskId: '', role: 'ROLE_AGENT', parts: [{ text: 'hi' }] };
    expect(await invokePeer('message', (_request, response, rpc) => json(response, 200, { jsonrpc: '2.0', id: rpc.id, result: { message } }))).toEqual({
      ok: false, error: { message: `agent "held-1" (${peerBase}/message): answered with a message, not a task`, code: 'invalid-result', retryable: true },
    });
    await new Promise((resolve) => setTimeout(resolve, 50)); // a tasks/cancel would be sent by now
    expect(methods).toEqual(['SendMessage']);
  });

  it('fails a stream that ends before naming a task, retryable', async () => {
    expect(await invokePeer('stream-empty', (_request, response) => sse(response, []))).toEqual({
      ok: false, error: { message: `agent "held-1" (${peerBase}/stream-empty): the stream ended before the agent named a task`, code: 'stream-ended', retryable: true },
    });
  });

  it('asks for the task itself when its stream ends before the task does, and polls it to its end', async () => {
    let gets = 0;
    const result = await invokePeer('stream-cut', (_request, response, rpc) => {
      if (rpc.method === 'SendStreamingMessage') {
        // A message and an empty event are skipped; the task is named, then the stream is cut.
        sse(response, [{ jsonrpc: '2.0', id: rpc.id, result: { message: { messageId: 'm', role: 'ROLE_AGENT', parts: [{ text: 'on it' }] } } }, { jsonrpc: '2.0', id: rpc.id, result: {} }, { jsonrpc: '2.0', id: rpc.id, result: { task: taskJson('TASK_STATE_WORKING') } }]);
        return;
      }
      gets++;
      const state = gets < 3 ? 'TASK_STATE_WORKING' : 'TASK_STATE_COMPLETED';
      json(response, 200, { jsonrpc: '2.0', id: rpc.id, result: taskJson(state, state === 'TASK_STATE_COMPLETED' ? [{ artifactId: 'a', name: 'result', parts: [{ data: { after: gets } }] }] : []) });
    });
    expect(result).toEqual({ ok: true, output: { after: 3 } });
    expect(methods).toEqual(['SendStreamingMessage', 'GetTask', 'GetTask', 'GetTask']);
  });

  it('reads a task again that ended between its read and its subscription (the agent refuses to subscribe to it)', async () => {
    let gets = 0;
    replies.set('stream-ended-meanwhile', (_request, response, rpc) => {
      if (rpc.method === 'SubscribeToTask') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end(`event: error\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: rpc.id, error: { code: -32004, message: 'Task peer-task is in a terminal state (3) and cannot be subscribed to.' } })}\n\n`);
        return;
      }
      gets++;
      json(response, 200, { jsonrpc: '2.0', id: rpc.id, result: taskJson(gets === 1 ? 'TASK_STATE_WORKING' : 'TASK_STATE_COMPLETED', gets === 1 ? [] : [{ artifactId: 'a', name: 'result', parts: [{ data: 'finished meanwhile' }] }]) });
    });
    const transport = await transportTo(`${peerBase}/stream-ended-meanwhile`);
    expect(await transport.invoke(call('work', { taskId: 'peer-task' }), cancellation())).toEqual({ ok: true, output: 'finished meanwhile' });
    expect(methods).toEqual(['GetTask', 'SubscribeToTask', 'GetTask']);
  });

  it('folds status and artifact updates of a stream into the task', async () => {
    const result = await invokePeer('stream-updates', (_request, response, rpc) => sse(response, [
      // Before the task: an artifact is not kept (there is nothing to add it to), and a task without status.
      { jsonrpc: '2.0', id: rpc.id, result: { artifactUpdate: { taskId: 'peer-task', contextId: 'c', artifact: { artifactId: 'early', name: 'result', parts: [{ data: 'too early' }] } } } },
      { jsonrpc: '2.0', id: rpc.id, result: { task: { id: 'peer-task', contextId: 'c', artifacts: [], history: [] } } },
      { jsonrpc: '2.0', id: rpc.id, result: { task: taskJson('TASK_STATE_SUBMITTED') } },
      { jsonrpc: '2.0', id: rpc.id, result: { artifactUpdate: { taskId: 'peer-task', contextId: 'c' } } },
      { jsonrpc: '2.0', id: rpc.id, result: { artifactUpdate: { taskId: 'peer-task', contextId: 'c', artifact: { artifactId: 'a', name: 'result', parts: [{ data: { streamed: true } }] } } } },
      { jsonrpc: '2.0', id: rpc.id, result: { statusUpdate: { taskId: 'peer-task', contextId: 'c', status: { state: 'TASK_STATE_COMPLETED' } } } },
    ]));
    expect(result).toEqual({ ok: true, output: { streamed: true } });
    expect(methods).toEqual(['SendStreamingMessage']);
  });

  it('sends no tasks/cancel for a call aborted before the agent named a task', async () => {
    const held: ServerResponse[] = [];
    replies.set('hang', (_request, response) => held.push(response));
    const transport = await transportTo(`${peerBase}/hang`, { follow: 'poll' });
    const cancel = cancellation();
    const answer = transport.invoke(call('work'), cancel);
    await waitFor(() => held.length === 1, { what: 'the message to reach the peer' });
    cancel.controller.abort(new Error('deadline'));
    expect(await answer).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(methods).toEqual(['SendMessage']);
    for (const response of held) response.destroy();
  });

  it('polls an agent whose card says nothing of its capabilities', async () => {
    replies.set('no-capabilities', (_request, response, rpc) => json(response, 200, { jsonrpc: '2.0', id: rpc.id, result: rpc.method === 'SendMessage' ? { task: taskJson('TASK_STATE_WORKING') } : taskJson('TASK_STATE_COMPLETED') }));
    const transport = await transportTo(`${peerBase}/no-capabilities`);
    expect(await transport.invoke(call('work'), cancellation())).toEqual({ ok: true, output: null });
    expect(methods).toEqual(['SendMessage', 'GetTask']);
  });

  it('polls a card without streaming even when following by the card', async () => {
    replies.set('plain', (_request, response, rpc) => json(response, 200, { jsonrpc: '2.0', id: rpc.id, result: rpc.method === 'SendMessage' ? { task: taskJson('TASK_STATE_WORKING') } : taskJson('TASK_STATE_COMPLETED') }));
    const transport = await transportTo(`${peerBase}/plain`, { follow: 'card' });
    expect(await transport.invoke(call('work'), cancellation())).toEqual({ ok: true, output: null });
    expect(methods).toEqual(['SendMessage', 'GetTask']);
  });
});
