/**
 * Bad peers: an agent whose card is fine but whose A2A endpoint answers a JSON-RPC error, a body that
 * is not JSON, nothing at all, or drops the connection. Each call ends as a classified failure (never
 * an exception), and a workflow on such an agent ends as its failure policy says. Real sockets: a
 * node:http server on loopback plays the peers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteA2aAgent } from '../../../src/agents/a2a/index.js';
import type { AgentCall } from '../../../src/agents/index.js';
import type { WorkflowEvent } from '../../../src/saga/index.js';
import { workflow } from '../../../src/workflow/index.js';
import { engineWithRemoteAgents } from './support.js';

const modes = ['rpc-error', 'garbage', 'slow', 'drop'] as const;
type Mode = (typeof modes)[number];

let server: Server;
let base = '';
const held: ServerResponse[] = [];

function card(mode: Mode): object {
  return {
    name: `bad-${mode}`, description: 'a bad peer', version: '1.0.0',
    supportedInterfaces: [{ url: `${base}/${mode}/a2a`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
    capabilities: { streaming: false, pushNotifications: false, extensions: [] },
    securitySchemes: {}, securityRequirements: [], defaultInputModes: ['application/json'], defaultOutputModes: ['application/json'],
    skills: [{ id: mode, name: mode, description: mode, tags: [], examples: [], inputModes: [], outputModes: [], securityRequirements: [] }],
    signatures: [],
  };
}

function answer(request: IncomingMessage, response: ServerResponse, body: string): void {
  const mode = (request.url ?? '').split('/')[1] as Mode;
  if (request.method === 'GET') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(card(mode)));
    return;
  }
  const id = (JSON.parse(body) as { id?: unknown }).id ?? null;
  switch (mode) {
    case 'rpc-error':
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message: 'internal kaboom' } }));
      return;
    case 'garbage':
      response.writeHead(200, { 'content-type': 'application/json' }).end('<html>this is not JSON</html>');
      return;
    case 'slow':
      held.push(response); // never answered
      return;
    case 'drop':
      request.socket.destroy();
      return;
  }
}

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => answer(request, response, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const response of held) response.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const call = (mode: Mode): AgentCall => ({ workflowId: 'w', stepId: mode, attempt: 1, action: 'work', input: {}, idempotencyKey: `w:${mode}`, deadline: Date.now() + 1_000, kind: 'step' });

const expected: Record<Mode, string> = { 'rpc-error': 'jsonrpc-error', garbage: 'invalid-response', slow: 'timeout', drop: 'unreachable' };

describe('bad peers', () => {
  it.each(modes.filter((mode) => mode !== 'slow'))('turns %s into a classified failure result', async (mode) => {
    const agent = new RemoteA2aAgent({ id: `bad-${mode}`, url: `${base}/${mode}` });
    await agent.readCard();
    const result = await agent.transport.invoke(call(mode), { signal: new AbortController().signal });
    expect(result).toMatchObject({ ok: false, error: { code: expected[mode], retryable: true } });
    if (!result.ok) expect(result.error.message).toContain(`bad-${mode}`);
  });

  it('ends a workflow on each bad peer as its policy says, with the classified error', async () => {
    const definitions = modes.map((mode) =>
      workflow(`on-${mode}`).version(1).onFailure('fail').step({ id: 'only', action: 'work', capability: mode, timeoutMs: 1_000, retry: { maxAttempts: 2, initialDelayMs: 10 } }).build(),
    );
    const { engine, stop } = await engineWithRemoteAgents({ store: 'memory:', definitions }, modes.map((mode) => ({ id: `bad-${mode}`, url: `${base}/${mode}` })));
    try {
      for (const mode of modes) {
        const { workflowId } = await engine.start(`on-${mode}`, {}, { workflowId: `on-${mode}` });
        expect((await engine.wait(workflowId)).status).toBe('failed');
        const events: WorkflowEvent[] = [];
        for await (const entry of engine.history(workflowId)) events.push(entry.event);
        const attempts = events.filter((event) => event.type === 'StepFailed' || event.type === 'StepTimedOut');
        expect(attempts).toHaveLength(2);
        const codes = attempts.map((event) => (event.type === 'StepFailed' ? event.data.error.code : 'timeout'));
        expect(codes).toEqual([expected[mode], expected[mode]]);
      }
    } finally {
      await stop();
    }
  });
});
