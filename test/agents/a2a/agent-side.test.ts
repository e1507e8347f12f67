/**
 * The agent side (`serveAgent`) over real loopback sockets: the idempotency key honoured across
 * both protocols (a repeated key returns the first answer without running the handler again, a
 * retryable failure is not kept, the memory is bounded), and a required token refused when missing
 * or wrong.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteA2aAgent, serveAgent, type ServedAgent } from '../../../src/agents/a2a/index.js';
import { AgentFailure, httpTransport, type AgentCall } from '../../../src/agents/index.js';
import type { Json } from '../../../src/store/port.js';

const served: ServedAgent[] = [];
afterEach(async () => {
  for (const agent of served.splice(0)) await agent.close();
});

async function serve(options: Parameters<typeof serveAgent>[0]): Promise<ServedAgent> {
  const agent = await serveAgent(options);
  served.push(agent);
  return agent;
}

const signal = new AbortController().signal;
const call = (key: string, attempt = 1, input: Json = { n: 1 }): AgentCall => ({ workflowId: 'w', stepId: 's', attempt, action: 'place', input, idempotencyKey: key, deadline: Date.now() + 10_000, kind: 'step' });

async function remote(agent: ServedAgent, token?: string): Promise<RemoteA2aAgent> {
  const link = new RemoteA2aAgent({ id: 'orders', url: agent.url, ...(token === undefined ? {} : { token }) });
  await link.readCard();
  return link;
}

describe('serveAgent: idempotency keys', () => {
  it('answers a repeated key with the first answer and runs the handler once, over A2A and plain HTTP alike', async () => {
    let placed = 0;
    const agent = await serve({ name: 'orders', skills: ['orders'], handlers: { place: async () => ({ orderId: `o-${++placed}` }) } });
    const a2a = (await remote(agent)).transport;
    const first = await a2a.invoke(call('w:s', 1), { signal });
    const again = await a2a.invoke(call('w:s', 2), { signal });
    const plain = await httpTransport({ url: agent.httpUrl }).invoke(call('w:s', 3), { signal });
    expect(first).toEqual({ ok: true, output: { orderId: 'o-1' } });
    expect(again).toEqual(first);
    expect(plain).toEqual(first);
    // Concurrent deliveries of a new key share one run.
    const both = await Promise.all([a2a.invoke(call('w:t'), { signal }), a2a.invoke(call('w:t'), { signal })]);
    expect(both).toEqual([{ ok: true, output: { orderId: 'o-2' } }, { ok: true, output: { orderId: 'o-2' } }]);
    expect(placed).toBe(2);
    expect(agent.runs.get('place')).toBe(2);
  });

  it('keeps final answers only: a retryable failure runs again, a terminal one does not', async () => {
    let calls = 0;
    const agent = await serve({
      name: 'orders', skills: ['orders'],
      handlers: { place: async (input) => {
        calls++;
        if ((input as { fail?: string }).fail === 'transient' && calls === 1) throw new Error('broker busy');
        if ((input as { fail?: string }).fail === 'terminal') throw new AgentFailure('account closed', 'rejected', false);
        return { ok: calls };
      } },
    });
    const a2a = (await remote(agent)).transport;
    expect(await a2a.invoke(call('k1', 1, { fail: 'transient' }), { signal })).toMatchObject({ ok: false, error: { message: expect.stringContaining('broker busy'), retryable: true } });
    expect(await a2a.invoke(call('k1', 2, { fail: 'transient' }), { signal })).toEqual({ ok: true, output: { ok: 2 } });
    expect(await a2a.invoke(call('k2', 1, { fail: 'terminal' }), { signal })).toMatchObject({ ok: false, error: { code: 'rejected', retryable: false } });
    expect(await a2a.invoke(call('k2', 2, { fail: 'terminal' }), { signal })).toMatchObject({ ok: false, error: { code: 'rejected', retryable: false } });
    expect(calls).toBe(3);
  });

  it('remembers at most idempotencyEntries answers, forgetting the oldest first', async () => {
    let runs = 0;
    const agent = await serve({ name: 'orders', skills: ['orders'], idempotencyEntries: 2, handlers: { place: () => ({ run: ++runs }) } });
    const plain = httpTransport({ url: agent.httpUrl });
    for (const key of ['a', 'b', 'c']) await plain.invoke(call(key), { signal });
    expect(await plain.invoke(call('c'), { signal })).toEqual({ ok: true, output: { run: 3 } });
    expect(await plain.invoke(call('a'), { signal })).toEqual({ ok: true, output: { run: 4 } });
  });
});

describe('serveAgent: a required token', () => {
  const token = 'a-long-enough-agent-token';

  it('refuses calls without the token or with a wrong one, and serves the right one; the card stays public', async () => {
    const agent = await serve({ name: 'orders', skills: ['orders'], token, handlers: { place: () => ({ placed: true }) } });
    const anonymous = await remote(agent); // the card is readable without credentials
    expect(anonymous.card?.securitySchemes).toHaveProperty('bearer');
    expect(await anonymous.transport.invoke(call('t1'), { signal })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    const wrong = await remote(agent, 'not-the-right-token-at-all');
    expect(await wrong.transport.invoke(call('t1'), { signal })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(agent.runs.get('place')).toBeUndefined();
    const rightful = await remote(agent, token);
    expect(await rightful.transport.invoke(call('t1'), { signal })).toEqual({ ok: true, output: { placed: true } });

    const raw = await fetch(agent.httpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(call('t2')) });
    expect(raw.status).toBe(401);
    expect(await httpTransport({ url: agent.httpUrl, headers: { authorization: `Bearer ${token}` } }).invoke(call('t2'), { signal })).toEqual({ ok: true, output: { placed: true } });
  });

  it('rejects a token too short to be a secret', async () => {
    await expect(serveAgent({ name: 'orders', token: 'short', handlers: { place: () => null } })).rejects.toThrow('at least 16 characters');
  });
});
