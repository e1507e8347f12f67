/**
 * The durable backlog through real runtimes on a real store: a start beyond the slots is stored
 * queued and costs one more event; queued workflows are admitted by priority, then age; a queued
 * workflow can be cancelled; one whose admission could not be stored is admitted once the store is
 * back; two runtimes admitting the same workflows never both admit one; at a
 * full bulkhead, steps wait in their workflows' order too.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { appendStart } from '../../src/saga/stream/index.js';
import { openStore } from '../../src/store/open.js';
import { UnavailableError } from '../../src/store/errors.js';
import type { EventData, EventStore } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { settlesWithin, waitFor } from '../support/wait-for.js';
import { agent, dataOf, historyOf, startTestEngine, type TestEngine } from './support.js';

const job = workflow('job').step({ id: 'work', action: 'work', capability: 'work', timeoutMs: 60_000, retry: { maxAttempts: 1 } }).build();

/** An agent whose calls wait until the test lets them go, recording which workflow reached it, in order. */
function heldAgent() {
  const reached: string[] = [];
  const gates: (() => void)[] = [];
  const definition = agent('worker', ['work'], {
    work: (_input, context) => {
      reached.push(context.idempotencyKey.split(':')[0] ?? '');
      return new Promise((resolve) => gates.push(() => resolve({})));
    },
  });
  return { definition, reached, releaseOne: () => gates.shift()?.(), waiting: () => gates.length };
}

const engines: TestEngine[] = [];
const stores: EventStore[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop();
  for (const store of stores.splice(0)) await store.close();
});

describe('a start beyond the slots', () => {
  it('is stored at once, queued, and costs one more event (WorkflowAdmitted) than a start with a free slot', async () => {
    const held = heldAgent();
    const engine = await startTestEngine({ agents: [held.definition], runtime: { maxInFlight: 1 } });
    engines.push(engine);
    expect(await engine.runtime.startWorkflow(job, {}, { workflowId: 'fast' })).toEqual({ workflowId: 'fast', queued: false });
    // Resolved without waiting for the slot: the start is durable, queued.
    expect(await engine.runtime.startWorkflow(job, {}, { workflowId: 'waits', priority: 4 })).toEqual({ workflowId: 'waits', queued: true });
    expect((await historyOf(engine.store, 'waits')).map((e) => [e.type, dataOf(e).queued, dataOf(e).priority])).toEqual([['WorkflowStarted', true, 4]]);
    expect(engine.runtime.stats()).toMatchObject({ inFlight: 1, backlog: 1, maxInFlight: 1 });

    await waitFor(() => held.waiting() === 1, { what: 'the first workflow to reach its agent' });
    held.releaseOne();
    await waitFor(() => held.waiting() === 1 && held.reached.length === 2, { what: 'the queued workflow to be admitted and reach its agent' });
    held.releaseOne();
    expect((await engine.runtime.waitForEnd('waits')).status).toBe('completed');
    expect((await engine.runtime.waitForEnd('fast')).status).toBe('completed');
    const types = async (id: string) => (await historyOf(engine.store, id)).map((e) => e.type);
    expect(await types('fast')).toEqual(['WorkflowStarted', 'StepScheduled', 'StepSucceeded', 'WorkflowCompleted']);
    expect(await types('waits')).toEqual(['WorkflowStarted', 'WorkflowAdmitted', 'StepScheduled', 'StepSucceeded', 'WorkflowCompleted']);
    expect(engine.runtime.stats()).toMatchObject({ inFlight: 0, backlog: 0 });
  });

  it('is admitted by priority, higher first, then the oldest start, whoever stored it', async () => {
    const held = heldAgent();
    const engine = await startTestEngine({ agents: [held.definition], runtime: { maxInFlight: 1 } });
    engines.push(engine);
    await engine.runtime.startWorkflow(job, {}, { workflowId: 'blocker' });
    await waitFor(() => held.waiting() === 1, { what: 'the blocker to hold the only slot' });
    // Stored queued by another writer (as `cadenza run --no-wait` does), with their own start times.
    const starts: [string, number, number][] = [['low', -10, 1_000], ['old-mid', 0, 2_000], ['urgent', 50, 5_000], ['new-mid', 0, 4_000], ['high', 10, 3_000], ['older-high', 10, 2_500]];
    for (const [id, priority, at] of starts) await appendStart(engine.store, id, job, {}, { priority, now: () => at });
    await waitFor(() => engine.runtime.stats().backlog === starts.length, { what: 'the runtime to see every queued start' });
    for (let admitted = 0; admitted < starts.length; admitted++) {
      held.releaseOne();
      await waitFor(() => held.reached.length === admitted + 2 && held.waiting() === 1, { what: `admission number ${admitted + 1} to reach the agent` });
    }
    held.releaseOne();
    expect(held.reached).toEqual(['blocker', 'urgent', 'older-high', 'high', 'old-mid', 'new-mid', 'low']);
    for (const [id] of starts) expect((await engine.runtime.waitForEnd(id)).status).toBe('completed');
  });

  it('can be cancelled while queued: it ends at once, nothing ran, nothing to compensate', async () => {
    const held = heldAgent();
    const engine = await startTestEngine({ agents: [held.definition], runtime: { maxInFlight: 1 } });
    engines.push(engine);
    await engine.runtime.startWorkflow(job, {}, { workflowId: 'running' });
    await engine.runtime.startWorkflow(job, {}, { workflowId: 'unwanted', priority: 9 });
    await engine.runtime.startWorkflow(job, {}, { workflowId: 'next' });
    expect((await engine.runtime.cancel('unwanted', 'no longer needed')).map((e) => e.type)).toEqual(['WorkflowCancelled']);
    expect(await engine.runtime.waitForEnd('unwanted')).toMatchObject({ status: 'cancelled' });
    expect(engine.runtime.stats()).toMatchObject({ inFlight: 1, backlog: 1 });
    await waitFor(() => held.waiting() === 1, { what: 'the running workflow to reach its agent' });
    held.releaseOne();
    await waitFor(() => held.reached.length === 2 && held.waiting() === 1, { what: 'the next queued workflow to be admitted' });
    held.releaseOne();
    expect((await engine.runtime.waitForEnd('next')).status).toBe('completed');
    // The cancelled one was passed over: never admitted, its agent never called.
    expect(held.reached).toEqual(['running', 'next']);
    expect((await historyOf(engine.store, 'unwanted')).map((e) => e.type)).toEqual(['WorkflowStarted', 'WorkflowCancelled']);
  });

  it('is admitted once the store is back, even if nothing else happens, when its admission could not be stored', async () => {
    const inner = await openStore('memory:');
    stores.push(inner);
    // The store refuses admissions while `down`, as an unreachable store would; everything else goes through.
    let down = false;
    let refused = 0;
    const store = new Proxy(inner, {
      get: (target, property, receiver) => {
        if (property !== 'append') return Reflect.get(target, property, receiver) as unknown;
        return (stream: string, events: EventData[], ...rest: unknown[]) => {
          if (down && events.some((event) => event.type === 'WorkflowAdmitted')) {
            refused++;
            return Promise.reject(new UnavailableError('the store is unreachable (test)'));
          }
          return (target.append as (...args: unknown[]) => Promise<unknown>)(stream, events, ...rest);
        };
      },
    });
    const logged: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
    const held = heldAgent();
    const engine = await startTestEngine({ agents: [held.definition], store, runtime: { maxInFlight: 1, appendRetryLimitMs: 50, logger } });
    engines.push(engine);
    await engine.runtime.startWorkflow(job, {}, { workflowId: 'first' });
    expect(await engine.runtime.startWorkflow(job, {}, { workflowId: 'second' })).toMatchObject({ queued: true });
    await waitFor(() => held.waiting() === 1, { what: 'the first workflow to reach its agent' });

    down = true;
    held.releaseOne();
    expect((await engine.runtime.waitForEnd('first')).status).toBe('completed');
    await waitFor(() => logged.some((line) => line.includes('admission failed')), { what: 'the admission of the queued workflow to be given up' });
    expect(refused).toBeGreaterThan(0);
    expect(engine.runtime.stats()).toMatchObject({ inFlight: 0, backlog: 1 });

    // Back: no start, no result, no event follows, yet the queued workflow is admitted.
    down = false;
    await waitFor(() => held.waiting() === 1 && held.reached.includes('second'), { what: 'the queued workflow to be admitted after the store came back' });
    held.releaseOne();
    expect((await engine.runtime.waitForEnd('second')).status).toBe('completed');
    expect((await historyOf(inner, 'second')).map((e) => e.type)).toEqual(['WorkflowStarted', 'WorkflowAdmitted', 'StepScheduled', 'StepSucceeded', 'WorkflowCompleted']);
  });
});

describe('steps at a full bulkhead', () => {
  it('are served by their workflow\'s priority, then its age', async () => {
    const held = heldAgent();
    // Every workflow is admitted at once (slots enough); the capability takes one call at a time.
    const engine = await startTestEngine({ agents: [held.definition], runtime: { maxInFlight: 100, bulkheads: { perCapability: { work: 1 } } } });
    engines.push(engine);
    await engine.runtime.startWorkflow(job, {}, { workflowId: 'holder' });
    await waitFor(() => held.waiting() === 1, { what: 'the holder to take the bulkhead\'s only slot' });
    const starts: [string, number][] = [['low', -3], ['first-mid', 2], ['top', 40], ['second-mid', 2], ['plain', 0]];
    for (const [id, priority] of starts) await engine.runtime.startWorkflow(job, {}, { workflowId: id, priority });
    await waitFor(() => engine.runtime.stats().bulkheads.some((b) => b.queueLength === starts.length), { what: 'every later step to wait at the bulkhead' });
    for (let served = 0; served <= starts.length; served++) {
      await waitFor(() => held.waiting() === 1, { what: `call number ${served + 1} to hold the bulkhead` });
      held.releaseOne();
    }
    for (const [id] of starts) expect((await engine.runtime.waitForEnd(id)).status).toBe('completed');
    expect(held.reached).toEqual(['holder', 'top', 'first-mid', 'second-mid', 'plain', 'low']);
  });
});

describe('two runtimes on one store', () => {
  it('never both admit one workflow: the expected revision fences the admission, the loser finds it admitted', async () => {
    const store = await openStore('memory:');
    stores.push(store);
    const calls = new Map<string, number>();
    const quick = () => agent('worker', ['work'], {
      work: (_input, context) => {
        calls.set(context.idempotencyKey, (calls.get(context.idempotencyKey) ?? 0) + 1);
        return Promise.resolve({});
      },
    });
    const a = await startTestEngine({ agents: [quick()], store, runtime: { maxInFlight: 4, runtimeId: 'runtime-a' } });
    engines.push(a);
    const b = await startTestEngine({ agents: [quick()], store, runtime: { maxInFlight: 4, runtimeId: 'runtime-b' } });
    engines.push(b);
    // Queued starts from a third writer: both runtimes see each and race to admit it.
    const ids = Array.from({ length: 40 }, (_, i) => `raced-${i}`);
    for (const [i, id] of ids.entries()) await appendStart(store, id, job, {}, { priority: i % 3 });
    for (const id of ids) expect((await a.runtime.waitForEnd(id)).status).toBe('completed');
    for (const id of ids) {
      const history = await historyOf(store, id);
      expect(history.filter((e) => e.type === 'WorkflowAdmitted'), id).toHaveLength(1);
      expect(history.filter((e) => e.type === 'StepScheduled'), id).toHaveLength(1);
    }
    // Each step's agent was called once per key, by one runtime.
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect(calls.size).toBe(ids.length);
    await waitFor(() => a.runtime.stats().backlog + b.runtime.stats().backlog === 0, { what: 'both runtimes to have nothing queued' });
  });

  it('carry on a workflow admitted by the one without its agent: the one with the agent schedules it', async () => {
    const store = await openStore('memory:');
    stores.push(store);
    // The runtime with the agent appends late, so the one without it wins every admission: the loser
    // learns from the store, when its own admission conflicts, that the step waits for an agent it
    // has (the events that say so are then known to it, and its subscription will not wake it).
    const late = new Proxy(store, {
      get(target, key, receiver) {
        if (key !== 'append') return Reflect.get(target, key, receiver) as unknown;
        return async (stream: string, ...rest: unknown[]) => {
          if (stream.startsWith('workflow-')) await new Promise((resolve) => setTimeout(resolve, 50));
          return (target.append as (...args: unknown[]) => unknown).call(target, stream, ...rest);
        };
      },
    });
    const withAgent = await startTestEngine({ agents: [agent('worker', ['work'], { work: () => Promise.resolve({}) })], store: late, runtime: { runtimeId: 'with-agent', ownershipGroup: 'with-agent' } });
    engines.push(withAgent);
    // Different agents: different ownership groups (docs/scaling.md), so both drive every workflow.
    const without = await startTestEngine({ agents: [], store, runtime: { runtimeId: 'without-agent', ownershipGroup: 'without-agent' } });
    engines.push(without);
    const ids = Array.from({ length: 5 }, (_, i) => `split-${i}`);
    for (const id of ids) await appendStart(store, id, job, {});
    for (const id of ids) expect((await settlesWithin(withAgent.runtime.waitForEnd(id), { what: `${id} to end`, timeoutMs: 20_000 })).status).toBe('completed');
    for (const id of ids) {
      const history = await historyOf(store, id);
      expect(history.map((e) => e.type).slice(0, 3), id).toEqual(['WorkflowStarted', 'WorkflowAdmitted', 'StepWaitingForAgent']);
      expect(history.filter((e) => e.type === 'WorkflowAdmitted'), id).toHaveLength(1);
    }
  });
});
