/**
 * Ownership by partition, two runtimes in one process on one store: a stale owner (one that still
 * believes its lease is valid after another took the partition) loses its append to the expected
 * revision and calls nothing; and a partition handed over while a workflow waits on a retry
 * backoff moves that timer to the new owner, which retries.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/saga/runtime/partitions.js';
import { fromRecorded } from '../../src/saga/stream/index.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { waitFor } from '../support/wait-for.js';
import { agent, deferred, historyOf, holdingLiveEvents, startTestEngine, type TestEngine } from './support.js';

const engines: TestEngine[] = [];
let raw: EventStore | undefined;
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop();
  await raw?.close();
  raw = undefined;
});

const ownedCount = (engine: TestEngine) => Object.values(engine.runtime.stats().partitions).flat().length;

describe('workflows owned by partition', () => {
  it('a stale owner\'s append conflicts, and the next step is called once, by the new owner', async () => {
    raw = await openStore('memory:');
    const held = holdingLiveEvents(raw);
    const gate = deferred<{ quote: number }>();
    const calls: string[] = [];
    const agentsOf = (runtime: string, answer: () => Promise<{ quote: number }> | { quote: number }) => [
      agent('pricer', ['price'], { price: () => { calls.push(`${runtime} price`); return answer(); } }),
      agent('broker', ['order'], { order: () => { calls.push(`${runtime} order`); return { placed: true }; } }),
    ];
    // A alone holds every partition, for a minute by its clock; its call of the first step hangs.
    const a = await startTestEngine({ store: held.store, agents: agentsOf('a', () => gate.promise), runtime: { leaseTtlMs: 60_000, checkpointIntervalMs: 0 } });
    engines.push(a);
    const def = workflow('stale').step({ id: 'price', action: 'price', capability: 'price', timeoutMs: 300_000 }).step({ id: 'order', action: 'order', capability: 'order', dependsOn: ['price'], timeoutMs: 300_000 }).build();
    const { workflowId } = await a.runtime.startWorkflow(def, {});
    await waitFor(() => calls.includes('a price'), { what: 'A to call the first step' });
    held.hold(); // A hears nothing of what B appends from here on

    // B's clock is two minutes ahead: A's lease has run out by it, so B takes every partition and
    // resumes the call in flight (same key); its agent answers at once and B calls the next step.
    const b = await startTestEngine({ store: raw, agents: agentsOf('b', () => ({ quote: 7 })), runtime: { leaseTtlMs: 60_000, now: () => Date.now() + 120_000 } });
    engines.push(b);
    expect(ownedCount(b)).toBe(16);
    await waitFor(() => calls.includes('b order'), { what: 'B to call the next step after resuming the first' });

    // A, still sure of its lease, gets its answer: its append conflicts, it reloads, and calls nothing.
    gate.resolve({ quote: 5 });
    await waitFor(() => a.runtime.stats().conflicts > 0, { what: 'the stale owner A to lose its append' });
    held.release();
    expect((await b.runtime.waitForEnd(workflowId)).status).toBe('completed');
    const history = await historyOf(raw, workflowId);
    const scheduled = history.filter((e) => e.type === 'StepScheduled').map((e) => fromRecorded(e).data as { stepId: string; attempt: number });
    expect(scheduled.map(({ stepId, attempt }) => `${stepId}#${attempt}`)).toEqual(['price#1', 'order#1']);
    expect(history.map((e) => e.type)).toContain('StepResumed');
    // The first step was sent twice under one key (the resume), the next step once, by B only.
    expect(calls.filter((call) => call.endsWith('order'))).toEqual(['b order']);
    expect(calls.filter((call) => call.endsWith('price')).sort()).toEqual(['a price', 'b price']);
  }, 30_000);

  it('a partition released while a workflow waits on a retry backoff: the new owner arms the timer and retries', async () => {
    raw = await openStore('memory:');
    const calls: string[] = [];
    const agentsOf = (runtime: string) => [
      agent('flaky', ['work'], {
        work: (_input, ctx) => {
          calls.push(`${runtime} ${ctx.attempt}`);
          if (ctx.attempt === 1) throw Object.assign(new Error('upstream 503'), { retryable: true });
          return { done: true };
        },
      }),
    ];
    const leases = { leaseTtlMs: 900 };
    const a = await startTestEngine({ store: raw, agents: agentsOf('a'), runtime: leases });
    engines.push(a);
    const b = await startTestEngine({ store: raw, agents: agentsOf('b'), runtime: leases });
    engines.push(b);
    await waitFor(() => ownedCount(a) === 8 && ownedCount(b) === 8, { what: 'A and B to hold 8 partitions each', timeoutMs: 20_000 });

    // A workflow of one of A's partitions, whose first attempt fails and waits 1.5 s to retry.
    const aPartitions = new Set(Object.values(a.runtime.stats().partitions).flat());
    let workflowId = 'backoff-0';
    for (let i = 1; !aPartitions.has(partitionOf(workflowId, 16)); i++) workflowId = `backoff-${i}`;
    const def = workflow('backoff').step({ id: 'work', action: 'work', capability: 'work', retry: { maxAttempts: 3, initialDelayMs: 1_500, multiplier: 1, maxDelayMs: 1_500, jitter: 0 } }).build();
    await a.runtime.startWorkflow(def, {}, { workflowId });
    await waitFor(async () => (await historyOf(raw!, workflowId)).some((e) => e.type === 'StepRetryScheduled'), { what: 'the retry to be scheduled' });

    // A stops (it leaves the table); B takes A's partitions over, arms the retry and makes it.
    await a.stop();
    engines.splice(engines.indexOf(a), 1);
    expect((await b.runtime.waitForEnd(workflowId)).status).toBe('completed');
    expect(calls).toEqual(['a 1', 'b 2']);
    expect(ownedCount(b)).toBe(16);
  }, 30_000);
});
