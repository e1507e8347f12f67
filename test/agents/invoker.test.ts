import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ActionHandler, inProcessTransport } from '../../src/agents/in-process-transport.js';
import type { AgentRegistry } from '../../src/agents/registry.js';
import { AgentFailure, type AgentCall, type AgentCallResult, type AgentTransport } from '../../src/agents/transport.js';
import type { EventStore } from '../../src/store/port.js';
import { waitFor } from '../support/wait-for.js';
import { ManualClock, call, invokerFor, memoryStore, openRegistry, tick } from './support.js';

let store: EventStore;
let registry: AgentRegistry;
let clock: ManualClock;

async function setup(): Promise<void> {
  store = await memoryStore();
  clock = new ManualClock();
  registry = await openRegistry(store, clock);
}

afterEach(async () => {
  await registry.close();
  await store.close();
});

/** An agent whose calls wait until the test lets them finish; counts how many run at once. */
function gatedAgent(): { transport: AgentTransport; running: number; maxRunning: number; started: string[]; finishAll: () => void } {
  const gates: (() => void)[] = [];
  const state = {
    running: 0,
    maxRunning: 0,
    started: [] as string[],
    finishAll: () => {
      for (const open of gates.splice(0)) open();
    },
    transport: inProcessTransport({
      work: async (_input, ctx) => {
        state.running += 1;
        state.maxRunning = Math.max(state.maxRunning, state.running);
        state.started.push(ctx.idempotencyKey);
        await new Promise<void>((resolve) => gates.push(resolve));
        state.running -= 1;
        return 'ok';
      },
    }),
  };
  return state;
}

function expectFailure(result: AgentCallResult, code: string, retryable: boolean): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toMatchObject({ code, retryable });
}

describe('agent invoker', () => {
  it('passes the call through, idempotency key included, and returns the output', async () => {
    await setup();
    const seen: AgentCall[] = [];
    const handler: ActionHandler = async (input, ctx) => {
      seen.push(ctx.call);
      return { echoed: input, key: ctx.idempotencyKey };
    };
    await registry.register({ id: 'echo', capabilities: ['work'], transport: inProcessTransport({ work: handler }) });
    const request = call(clock, { workflowId: 'wf-9', stepId: 'price', attempt: 3 });
    const result = await invokerFor(registry).invoke('echo', request);
    expect(result).toEqual({ ok: true, output: { echoed: { n: 1 }, key: 'wf-9:price' } });
    expect(seen).toEqual([request]);
    expect(registry.stats.snapshot('echo')).toMatchObject({ calls: 1, successes: 1, inFlight: 0, successRate: 1 });
  });

  it('turns an overrun deadline into a retryable timeout and aborts the agent', async () => {
    await setup();
    let aborted = false;
    const hang: ActionHandler = (_input, ctx) =>
      new Promise((resolve) => {
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
          resolve('too late');
        });
      });
    await registry.register({ id: 'slow', capabilities: ['work'], transport: inProcessTransport({ work: hang }) });
    const result = await invokerFor(registry).invoke('slow', call(clock, { deadline: clock.time + 30 }));
    expectFailure(result, 'timeout', true);
    expect(aborted).toBe(true);
    expect(registry.stats.snapshot('slow')).toMatchObject({ failures: 1, inFlight: 0 });
  });

  it('hands a handler that first looks at its signal after the deadline an aborted one', async () => {
    await setup();
    let lookLate!: () => void;
    const late = new Promise<void>((resolve) => (lookLate = resolve));
    let seen: { aborted: boolean; reason: unknown } | undefined;
    const unaware: ActionHandler = async (_input, ctx) => {
      await late;
      seen = { aborted: ctx.signal.aborted, reason: ctx.signal.reason };
      return 'done anyway';
    };
    await registry.register({ id: 'unaware', capabilities: ['work'], transport: inProcessTransport({ work: unaware }) });
    const result = await invokerFor(registry).invoke('unaware', call(clock, { deadline: clock.time + 30 }));
    expectFailure(result, 'timeout', true);
    lookLate();
    await vi.waitFor(() => expect(seen).toBeDefined());
    expect(seen?.aborted).toBe(true);
    expect((seen?.reason as Error).message).toBe('deadline');
  });

  it('fails an unknown action as non-retryable, naming the action', async () => {
    await setup();
    await registry.register({ id: 'a', capabilities: ['work'], transport: inProcessTransport({ work: () => 1 }) });
    const result = await invokerFor(registry).invoke('a', call(clock, { action: 'launchRockets' }));
    expectFailure(result, 'unknown-action', false);
    if (!result.ok) expect(result.error.message).toContain('launchRockets');
  });

  it('turns thrown errors into failures: retryable by default, as chosen with AgentFailure', async () => {
    await setup();
    await registry.register({
      id: 'thrower',
      capabilities: ['work'],
      transport: inProcessTransport({
        work: () => {
          throw new Error('boom');
        },
        reject: () => {
          throw new AgentFailure('insufficient funds', 'funds', false);
        },
      }),
    });
    const invoker = invokerFor(registry);
    const crashed = await invoker.invoke('thrower', call(clock));
    expectFailure(crashed, 'agent-error', true);
    if (!crashed.ok) expect(crashed.error.message).toBe('boom');
    expectFailure(await invoker.invoke('thrower', call(clock, { action: 'reject' })), 'funds', false);
  });

  it('a transport that throws or answers garbage fails the call instead of the caller', async () => {
    await setup();
    const throwing: AgentTransport = { invoke: () => Promise.reject(new Error('connection refused')) };
    const garbage = { invoke: async () => ({ status: 'fine' }) } as unknown as AgentTransport;
    await registry.register({ id: 'down', capabilities: ['work'], transport: throwing });
    await registry.register({ id: 'odd', capabilities: ['work'], transport: garbage });
    const invoker = invokerFor(registry);
    expectFailure(await invoker.invoke('down', call(clock)), 'agent-error', true);
    expectFailure(await invoker.invoke('odd', call(clock)), 'invalid-result', false);
  });

  it('opens the circuit after repeated failures and then fails fast without calling the agent', async () => {
    await setup();
    let calls = 0;
    await registry.register({
      id: 'broken',
      capabilities: ['work'],
      transport: inProcessTransport({
        work: () => {
          calls += 1;
          throw new Error('down');
        },
      }),
    });
    const invoker = invokerFor(registry);
    await invoker.invoke('broken', call(clock));
    await invoker.invoke('broken', call(clock)); // threshold 2: open
    expect(registry.circuit('broken')?.status).toBe('open');
    const refused = await invoker.invoke('broken', call(clock));
    expectFailure(refused, 'circuit-open', true);
    expect(calls).toBe(2);
    expect(registry.stats.snapshot('broken').rejected).toBe(1);

    clock.advance(10_000); // the cool-down: one probe goes through, fails, reopens
    expectFailure(await invoker.invoke('broken', call(clock)), 'agent-error', true);
    expect(calls).toBe(3);
    expect(registry.circuit('broken')?.status).toBe('open');
  });

  it('does not count non-retryable business failures against the agent', async () => {
    await setup();
    await registry.register({
      id: 'strict',
      capabilities: ['work'],
      transport: inProcessTransport({
        work: () => {
          throw new AgentFailure('rejected by policy', 'policy', false);
        },
      }),
    });
    const invoker = invokerFor(registry);
    for (let i = 0; i < 5; i += 1) await invoker.invoke('strict', call(clock));
    expect(registry.circuit('strict')?.status).toBe('closed');
  });

  it('limits concurrent calls per agent and serves the queue in order', async () => {
    await setup();
    const agent = gatedAgent();
    await registry.register({ id: 'gated', capabilities: ['work'], maxConcurrency: 2, transport: agent.transport });
    const invoker = invokerFor(registry);
    const results = [1, 2, 3, 4, 5].map((n) => invoker.invoke('gated', call(clock, { stepId: `s${n}` })));
    await vi.waitFor(() => expect(agent.running).toBe(2));
    await tick();
    expect(agent.running).toBe(2);
    expect(invoker.bulkheads()).toEqual([{ name: 'agent:gated', active: 2, queueLength: 3, maxConcurrent: 2 }]);
    expect(registry.stats.inFlight('gated')).toBe(2);
    await waitFor(() => {
      agent.finishAll();
      return agent.started.length === 5 && agent.running === 0;
    }, { what: 'all five queued calls to start and finish' });
    const settled = await Promise.all(results);
    expect(settled.every((result) => result.ok)).toBe(true);
    expect(agent.maxRunning).toBe(2);
    expect(agent.started).toEqual(['wf-1:s1', 'wf-1:s2', 'wf-1:s3', 'wf-1:s4', 'wf-1:s5']);
  });

  it('limits concurrent calls per capability across agents', async () => {
    await setup();
    const one = gatedAgent();
    const two = gatedAgent();
    await registry.register({ id: 'one', capabilities: ['work'], transport: one.transport });
    await registry.register({ id: 'two', capabilities: ['work'], transport: two.transport });
    const invoker = invokerFor(registry, { bulkheads: { perCapability: { work: 1 } } });
    const first = invoker.invoke('one', call(clock, { stepId: 'a' }));
    const second = invoker.invoke('two', call(clock, { stepId: 'b' }), { capability: 'work' });
    await vi.waitFor(() => expect(one.running).toBe(1));
    await tick();
    expect(two.running).toBe(0);
    one.finishAll();
    await vi.waitFor(() => expect(two.running).toBe(1));
    two.finishAll();
    expect((await Promise.all([first, second])).map((result) => result.ok)).toEqual([true, true]);
  });

  it('fails a call that gets no slot before its deadline as retryable bulkhead-timeout', async () => {
    await setup();
    const agent = gatedAgent();
    await registry.register({ id: 'gated', capabilities: ['work'], maxConcurrency: 1, transport: agent.transport });
    const invoker = invokerFor(registry);
    const holding = invoker.invoke('gated', call(clock, { stepId: 'long' }));
    await vi.waitFor(() => expect(agent.running).toBe(1));
    const waiting = await invoker.invoke('gated', call(clock, { stepId: 'short', deadline: clock.time + 20 }));
    expectFailure(waiting, 'bulkhead-timeout', true);
    expect(agent.started).toEqual(['wf-1:long']);
    agent.finishAll();
    expect((await holding).ok).toBe(true);
  });

  it('cancels through the caller signal without blaming the agent', async () => {
    await setup();
    const agent = gatedAgent();
    await registry.register({ id: 'gated', capabilities: ['work'], transport: agent.transport });
    const controller = new AbortController();
    const pending = invokerFor(registry).invoke('gated', call(clock), { signal: controller.signal });
    await vi.waitFor(() => expect(agent.running).toBe(1));
    controller.abort();
    expectFailure(await pending, 'cancelled', false);
    expect(registry.stats.snapshot('gated')).toMatchObject({ inFlight: 0, failures: 0 });
    agent.finishAll();
  });

  it('one caller signal cancels every call that shares it', async () => {
    await setup();
    const agent = gatedAgent();
    await registry.register({ id: 'gated', capabilities: ['work'], transport: agent.transport });
    const invoker = invokerFor(registry);
    const shutdown = new AbortController();
    const pending = ['a', 'b'].map((stepId) => invoker.invoke('gated', call(clock, { stepId }), { signal: shutdown.signal }));
    await vi.waitFor(() => expect(agent.running).toBe(2));
    shutdown.abort();
    for (const result of await Promise.all(pending)) expectFailure(result, 'cancelled', false);
    expectFailure(await invoker.invoke('gated', call(clock), { signal: shutdown.signal }), 'cancelled', false);
    agent.finishAll();
  });

  it('fails an output that is not plain JSON', async () => {
    await setup();
    await registry.register({ id: 'dates', capabilities: ['work'], transport: inProcessTransport({ work: () => ({ at: new Date() }) as never }) });
    expectFailure(await invokerFor(registry).invoke('dates', call(clock)), 'invalid-result', false);
  });

  it('refuses unknown agents and agents without a transport here', async () => {
    await setup();
    const other = await openRegistry(store, clock);
    await other.register({ id: 'elsewhere', capabilities: ['work'], transport: inProcessTransport({ work: () => 1 }) });
    await vi.waitFor(() => expect(registry.get('elsewhere')?.registered).toBe(true), { timeout: 5000 });
    const invoker = invokerFor(registry);
    expectFailure(await invoker.invoke('nobody', call(clock)), 'unknown-agent', true);
    expectFailure(await invoker.invoke('elsewhere', call(clock)), 'agent-not-callable', true);
    await other.close();
  });

  it('logs with the agent id on every line', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    store = await memoryStore();
    clock = new ManualClock();
    registry = await openRegistry(store, clock, { logger });
    await registry.register({ id: 'noisy', capabilities: ['work'], transport: inProcessTransport({ work: () => { throw new Error('x'); } }) });
    const invoker = invokerFor(registry, { logger });
    for (let i = 0; i < 3; i += 1) await invoker.invoke('noisy', call(clock, { attempt: i + 1 }));
    await registry.flush();
    await vi.waitFor(() => expect(lines.some((line) => line.msg === 'circuit open')).toBe(true));
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(line).toHaveProperty('agentId', 'noisy');
  });
});
