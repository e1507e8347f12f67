/**
 * The invoker's guards as docs/agents.md ("The invoker", "Bulkheads", "Logging") lists them: what
 * each refusal answers, what it counts against the agent, and which bulkhead limits apply.
 */
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { healthOutcome } from '../../src/agents/invoker.js';
import { inProcessTransport } from '../../src/agents/in-process-transport.js';
import type { AgentRegistry } from '../../src/agents/registry.js';
import type { AgentCallResult, AgentTransport } from '../../src/agents/transport.js';
import type { EventStore } from '../../src/store/port.js';
import { waitFor } from '../support/wait-for.js';
import { ManualClock, call, invokerFor, memoryStore, openRegistry, tick } from './support.js';

let store: EventStore;
let registry: AgentRegistry;
let clock: ManualClock;

async function setup(logger?: pino.Logger): Promise<void> {
  store = await memoryStore();
  clock = new ManualClock();
  registry = await openRegistry(store, clock, logger ? { logger } : {});
}

afterEach(async () => {
  await registry.close();
  await store.close();
});

function failureOf(result: AgentCallResult): { message: string; code?: string; retryable: boolean } {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

/** An agent whose calls wait until released (`releaseAll` also lets every later call through); counts the calls it received. */
function heldAgent(): { transport: AgentTransport; calls: number; release: () => void; releaseAll: () => void } {
  const gates: (() => void)[] = [];
  let holding = true;
  const agent = {
    calls: 0,
    release: () => {
      for (const open of gates.splice(0)) open();
    },
    releaseAll: () => {
      holding = false;
      agent.release();
    },
    transport: inProcessTransport({
      work: async () => {
        agent.calls += 1;
        if (holding) await new Promise<void>((resolve) => gates.push(resolve));
        return 'done';
      },
    }),
  };
  return agent;
}

describe('invoker refusals', () => {
  it('answers a call whose deadline has passed with a retryable timeout, without calling the agent', async () => {
    await setup();
    const agent = heldAgent();
    await registry.register({ id: 'a', capabilities: ['work'], transport: agent.transport });
    const invoker = invokerFor(registry);
    for (const deadline of [clock.time, clock.time - 1]) {
      expect(failureOf(await invoker.invoke('a', call(clock, { deadline })))).toMatchObject({ code: 'timeout', retryable: true });
    }
    expect(agent.calls).toBe(0);
    expect(registry.stats.snapshot('a')).toMatchObject({ calls: 0, failures: 0, rejected: 0 });
  });

  it('names the agent and the end of its cool-down when the circuit is open, and counts the refusal', async () => {
    await setup();
    await registry.register({ id: 'down', capabilities: ['work'], transport: inProcessTransport({ work: () => { throw new Error('x'); } }) });
    const invoker = invokerFor(registry);
    await invoker.invoke('down', call(clock));
    await invoker.invoke('down', call(clock)); // threshold 2 (test/agents/support.ts): open
    const refused = failureOf(await invoker.invoke('down', call(clock)));
    expect(refused).toEqual({
      message: `Circuit of agent "down" is open until ${new Date(clock.time + 10_000).toISOString()}`,
      code: 'circuit-open',
      retryable: true,
    });
    expect(registry.stats.snapshot('down')).toMatchObject({ calls: 2, failures: 2, rejected: 1 });
  });

  it('names the unknown agent and the agent without a transport', async () => {
    await setup();
    const other = await openRegistry(store, clock);
    await other.register({ id: 'elsewhere', capabilities: ['work'], transport: inProcessTransport({ work: () => 1 }) });
    await waitFor(() => registry.get('elsewhere')?.registered === true, { what: 'the other registry\'s agent to be seen here' });
    const invoker = invokerFor(registry);
    expect(failureOf(await invoker.invoke('nobody', call(clock))).message).toBe('Agent "nobody" is not registered');
    expect(failureOf(await invoker.invoke('elsewhere', call(clock))).message).toBe('Agent "elsewhere" has no transport in this process');
    await other.close();
  });
});

describe('invoker admission', () => {
  it('lets one probe through a half-open circuit even when calls passed the first check together', async () => {
    await setup();
    let failing = true;
    let calls = 0;
    const gates: (() => void)[] = [];
    await registry.register({ id: 'flaky', capabilities: ['work'], transport: inProcessTransport({
      work: async () => {
        calls += 1;
        if (failing) throw new Error('down');
        await new Promise<void>((resolve) => gates.push(resolve));
        return 'up';
      },
    }) });
    // A capability bulkhead makes both calls wait a turn between the availability check and admission.
    const invoker = invokerFor(registry, { bulkheads: { perCapability: { work: 5 } } });
    await invoker.invoke('flaky', call(clock));
    await invoker.invoke('flaky', call(clock));
    failing = false;
    clock.advance(10_000);
    const [probe, second] = [invoker.invoke('flaky', call(clock, { stepId: 'p' })), invoker.invoke('flaky', call(clock, { stepId: 'q' }))];
    expect(failureOf(await second)).toMatchObject({ code: 'circuit-open', retryable: true, message: 'Circuit of agent "flaky" is open' });
    await waitFor(() => gates.length === 1, { what: 'the probe to reach the agent' });
    for (const open of gates) open();
    expect(await probe).toEqual({ ok: true, output: 'up' });
    expect(calls).toBe(3);
  });

  it('does not call the agent for a caller that has already given up', async () => {
    await setup();
    const agent = heldAgent();
    await registry.register({ id: 'a', capabilities: ['work'], transport: agent.transport });
    const controller = new AbortController();
    controller.abort();
    expect(failureOf(await invokerFor(registry).invoke('a', call(clock), { signal: controller.signal })).code).toBe('cancelled');
    await tick();
    expect(agent.calls).toBe(0);
  });

  it('records a call\'s latency as the time it took', async () => {
    await setup();
    await registry.register({ id: 'a', capabilities: ['work'], transport: inProcessTransport({ work: () => 1 }) });
    const before = performance.now();
    await invokerFor(registry).invoke('a', call(clock));
    const elapsed = performance.now() - before;
    const { last } = registry.stats.snapshot('a').latencyMs;
    expect(last).toBeGreaterThanOrEqual(0);
    expect(last).toBeLessThanOrEqual(elapsed);
  });
});

describe('what counts against an agent', () => {
  it('counts malformed answers and retryable failures as failures, definitive answers and successes as successes', () => {
    const ok: AgentCallResult = { ok: true, output: 1 };
    const fail = (code: string, retryable: boolean): AgentCallResult => ({ ok: false, error: { message: 'm', code, retryable } });
    expect(healthOutcome(ok, false)).toBe('success');
    expect(healthOutcome(fail('agent-error', true), false)).toBe('failure');
    expect(healthOutcome(fail('invalid-result', false), false)).toBe('failure');
    expect(healthOutcome(fail('policy', false), false)).toBe('success');
    expect(healthOutcome(fail('agent-error', true), true)).toBe('ignored');
    expect(healthOutcome(ok, true)).toBe('ignored');
  });

  it('opens the circuit of an agent that keeps answering garbage', async () => {
    await setup();
    const garbage = { invoke: async () => ({ status: 'fine' }) } as unknown as AgentTransport;
    await registry.register({ id: 'odd', capabilities: ['work'], transport: garbage });
    const invoker = invokerFor(registry);
    await invoker.invoke('odd', call(clock));
    await invoker.invoke('odd', call(clock));
    expect(registry.circuit('odd')?.status).toBe('open');
  });

  it('counts a call cancelled by the caller as abandoned, not as a call that finished', async () => {
    await setup();
    const agent = heldAgent();
    await registry.register({ id: 'held', capabilities: ['work'], transport: agent.transport });
    const controller = new AbortController();
    const pending = invokerFor(registry).invoke('held', call(clock), { signal: controller.signal });
    await waitFor(() => agent.calls === 1, { what: 'the call to reach the agent' });
    controller.abort();
    expect(failureOf(await pending)).toMatchObject({ code: 'cancelled', retryable: false, message: 'Call wf-1:step-a cancelled' });
    expect(registry.stats.snapshot('held')).toMatchObject({ inFlight: 0, calls: 0, successes: 0, failures: 0 });
    expect(registry.circuit('held')?.status).toBe('closed');
    agent.release();
  });
});

describe('bulkhead limits', () => {
  it('refuses at once when the queue is full (bulkheads.maxQueue), counting the refusal', async () => {
    await setup();
    const agent = heldAgent();
    await registry.register({ id: 'one', capabilities: ['work'], maxConcurrency: 1, transport: agent.transport });
    const invoker = invokerFor(registry, { bulkheads: { maxQueue: 1 } });
    const running = invoker.invoke('one', call(clock, { stepId: 'a' }));
    await waitFor(() => agent.calls === 1, { what: 'the first call to take the slot' });
    const queued = invoker.invoke('one', call(clock, { stepId: 'b' }));
    await tick();
    const refused = failureOf(await invoker.invoke('one', call(clock, { stepId: 'c' })));
    expect(refused).toEqual({ message: 'Bulkhead "agent:one" queue is full', code: 'bulkhead-full', retryable: true });
    expect(registry.stats.snapshot('one').rejected).toBe(1);
    await waitFor(() => {
      agent.release();
      return agent.calls === 2;
    }, { what: 'the queued call to get the slot' });
    agent.release();
    expect([(await running).ok, (await queued).ok]).toEqual([true, true]);
  });

  it('queues up to 1000 waiters per bulkhead by default', async () => {
    await setup();
    const agent = heldAgent();
    await registry.register({ id: 'one', capabilities: ['work'], maxConcurrency: 1, transport: agent.transport });
    const invoker = invokerFor(registry);
    const calls = Array.from({ length: 1001 }, (_, n) => invoker.invoke('one', call(clock, { stepId: `s${n}` })));
    await waitFor(() => agent.calls === 1, { what: 'the first call to take the slot' });
    expect(invoker.bulkheads()).toEqual([{ name: 'agent:one', active: 1, queueLength: 1000, maxConcurrent: 1 }]);
    expect(failureOf(await invoker.invoke('one', call(clock, { stepId: 'over' }))).code).toBe('bulkhead-full');
    agent.releaseAll();
    expect((await Promise.all(calls)).every((result) => result.ok)).toBe(true);
  });

  it('gives up a waiting call when the caller cancels, as a non-retryable cancelled', async () => {
    await setup();
    const agent = heldAgent();
    await registry.register({ id: 'one', capabilities: ['work'], maxConcurrency: 1, transport: agent.transport });
    const invoker = invokerFor(registry);
    const running = invoker.invoke('one', call(clock, { stepId: 'a' }));
    await waitFor(() => agent.calls === 1, { what: 'the first call to take the slot' });
    const controller = new AbortController();
    const waiting = invoker.invoke('one', call(clock, { stepId: 'b' }), { signal: controller.signal });
    await tick();
    controller.abort();
    expect(failureOf(await waiting)).toEqual({ message: 'Call wf-1:b cancelled while waiting for a slot', code: 'cancelled', retryable: false });
    agent.release();
    expect((await running).ok).toBe(true);
    expect(agent.calls).toBe(1);
  });

  it('names the bulkhead and the call in a slot timeout', async () => {
    await setup();
    const agent = heldAgent();
    await registry.register({ id: 'one', capabilities: ['work'], maxConcurrency: 1, transport: agent.transport });
    const invoker = invokerFor(registry);
    const running = invoker.invoke('one', call(clock, { stepId: 'a' }));
    await waitFor(() => agent.calls === 1, { what: 'the first call to take the slot' });
    const late = failureOf(await invoker.invoke('one', call(clock, { stepId: 'b', deadline: clock.time + 20 })));
    expect(late).toEqual({ message: 'No slot in bulkhead "agent:one" before the deadline of wf-1:b', code: 'bulkhead-timeout', retryable: true });
    agent.release();
    await running;
  });

  it('gives back the capability slot of a call that got no agent slot', async () => {
    await setup();
    const agent = heldAgent();
    await registry.register({ id: 'one', capabilities: ['work'], maxConcurrency: 1, transport: agent.transport });
    const invoker = invokerFor(registry, { bulkheads: { perCapability: { work: 2 } } });
    const running = invoker.invoke('one', call(clock, { stepId: 'a' }));
    await waitFor(() => agent.calls === 1, { what: 'the first call to take both slots' });
    expect(failureOf(await invoker.invoke('one', call(clock, { stepId: 'b', deadline: clock.time + 20 }))).code).toBe('bulkhead-timeout');
    expect(invoker.bulkheads().map(({ name, active, queueLength }) => [name, active, queueLength])).toEqual([['capability:work', 1, 0], ['agent:one', 1, 0]]);
    agent.release();
    await running;
    expect(invoker.bulkheads().map(({ active }) => active)).toEqual([0, 0]);
  });

  it('applies perAgent and perCapabilityDefault when nothing more specific is given', async () => {
    await setup();
    const agent = heldAgent();
    await registry.register({ id: 'plain', capabilities: ['work'], transport: agent.transport });
    const invoker = invokerFor(registry, { bulkheads: { perAgent: 2, perCapabilityDefault: 3, perCapability: { other: 9 } } });
    const calls = [1, 2, 3].map((n) => invoker.invoke('plain', call(clock, { stepId: `s${n}` })));
    await waitFor(() => agent.calls === 2, { what: 'two calls to run' });
    await tick();
    expect(agent.calls).toBe(2);
    expect(invoker.bulkheads()).toEqual([
      { name: 'capability:work', active: 3, queueLength: 0, maxConcurrent: 3 },
      { name: 'agent:plain', active: 2, queueLength: 1, maxConcurrent: 2 },
    ]);
    await waitFor(() => {
      agent.release();
      return agent.calls === 3;
    }, { what: 'the third call to run' });
    agent.release();
    await Promise.all(calls);
  });

  it('gives an agent re-registered with a new maxConcurrency a bulkhead of the new size', async () => {
    await setup();
    const agent = heldAgent();
    await registry.register({ id: 'grow', capabilities: ['work'], maxConcurrency: 1, transport: agent.transport });
    const invoker = invokerFor(registry);
    const first = invoker.invoke('grow', call(clock, { stepId: 'a' }));
    await waitFor(() => agent.calls === 1, { what: 'the first call to run' });
    agent.release();
    await first;
    await registry.register({ id: 'grow', capabilities: ['work'], maxConcurrency: 2, transport: agent.transport });
    const both = ['b', 'c'].map((stepId) => invoker.invoke('grow', call(clock, { stepId })));
    await waitFor(() => agent.calls === 3, { what: 'two calls to run at once under the new limit' });
    expect(invoker.bulkheads()).toEqual([{ name: 'agent:grow', active: 2, queueLength: 0, maxConcurrent: 2 }]);
    agent.release();
    await Promise.all(both);
  });
});

describe('invoker logging', () => {
  it('logs circuit transitions at warn, failed calls at info, successes at debug, each with the call', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    await setup(logger);
    let fail = true;
    await registry.register({ id: 'moody', capabilities: ['work'], transport: inProcessTransport({ work: () => { if (fail) throw new Error('x'); return 1; } }) });
    const invoker = invokerFor(registry, { logger });
    await invoker.invoke('moody', call(clock, { workflowId: 'wf-7', stepId: 'quote', attempt: 2 }));
    fail = false;
    await invoker.invoke('moody', call(clock, { workflowId: 'wf-7', stepId: 'quote', attempt: 3 }));
    fail = true;
    await invoker.invoke('moody', call(clock, { attempt: 4 }));
    await invoker.invoke('moody', call(clock, { attempt: 5 }));
    await registry.flush();
    await vi.waitFor(() => expect(lines.some((line) => line.msg === 'circuit open')).toBe(true));
    const failed = lines.find((line) => line.msg === 'agent call failed');
    expect(failed).toMatchObject({ level: 30, agentId: 'moody', workflowId: 'wf-7', stepId: 'quote', attempt: 2, error: { code: 'agent-error' } });
    expect(lines.find((line) => line.msg === 'agent call succeeded')).toMatchObject({ level: 20, agentId: 'moody', workflowId: 'wf-7', attempt: 3, action: 'work', kind: 'step' });
    expect(lines.find((line) => line.msg === 'circuit open')).toMatchObject({ level: 40, agentId: 'moody' });
    await invoker.invoke('moody', call(clock, { attempt: 6 }));
    expect(lines.find((line) => line.msg === 'call refused')).toMatchObject({ level: 30, agentId: 'moody', attempt: 6, code: 'circuit-open' });
  });
});
