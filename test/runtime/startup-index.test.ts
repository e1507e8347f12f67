/**
 * Start-up in O(in-flight): a runtime starts from the index of unfinished workflows (the last
 * checkpoint) plus the tail after it, never the completed history. Counted through the store port
 * (every event a read or a subscription hands over), not timed. A workflow that ended after the
 * last checkpoint (a crash before the index caught up) is not resurrected; one started after it is
 * not lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AgentRegistry } from '../../src/agents/index.js';
import { SagaRuntime } from '../../src/saga/runtime/index.js';
import { INDEX_POSITION_INTERVAL, IN_FLIGHT_INDEX_PREFIX, partitionIndexStream } from '../../src/saga/runtime/in-flight-index.js';
import { ALL_DEFINITIONS, DEFAULT_PARTITIONS } from '../../src/saga/runtime/partitions.js';
import { appendStart, decideAndAppend } from '../../src/saga/stream/index.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { CountingStore } from '../support/counting-store.js';
import { agent, historyOf } from './support.js';

const quick = workflow('quick').step({ id: 'a', action: 'a', capability: 'quick' }).step({ id: 'b', action: 'b', capability: 'quick', dependsOn: ['a'] }).build();
const slow = workflow('slow').step({ id: 'hold', action: 'hold', capability: 'slow', timeoutMs: 120_000 }).build();

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function runtimeOn(store: EventStore, registryStore: EventStore, answerSlow: boolean, options: { checkpointIntervalMs?: number } = {}) {
  const registry = await AgentRegistry.open({ store: registryStore });
  const calls: string[] = [];
  await registry.register(agent('quick-agent', ['quick'], { a: () => ({}), b: () => ({}) }));
  await registry.register(
    agent('slow-agent', ['slow'], {
      hold: (_input, ctx) => {
        calls.push(ctx.idempotencyKey);
        return answerSlow ? { held: false } : new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({ aborted: true })));
      },
    }),
  );
  const runtime = await SagaRuntime.start({ store, registry, ...options });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await runtime.stop();
    await registry.close();
  };
  stops.push(stop);
  return { runtime, calls, stop };
}

describe('start-up from the index of in-flight workflows', () => {
  it('reads only what is in flight plus the tail, resurrects nothing that ended, loses nothing that started', async () => {
    const store = await openStore('memory:');
    stops.push(() => store.close());

    // A first runtime: many workflows completed, a few held in flight, then a clean stop (an index).
    const first = await runtimeOn(store, store, false);
    const completed: string[] = [];
    for (let i = 0; i < 150; i++) completed.push((await first.runtime.startWorkflow(quick, {})).workflowId);
    for (const id of completed) expect((await first.runtime.waitForEnd(id)).status).toBe('completed');
    const held: string[] = [];
    for (let i = 0; i < 4; i++) held.push((await first.runtime.startWorkflow(slow, {})).workflowId);
    expect(first.calls).toHaveLength(4);
    await first.stop();

    // After the index: one held workflow ends (appended without a runtime, so no index update
    // follows: as if its runtime crashed right after), and two start (waiting for an agent).
    const [ended, ...stillHeld] = held as [string, ...string[]];
    await decideAndAppend(store, ended, { kind: 'stepResult', stepId: 'hold', attempt: 1, outcome: { ok: true, output: { early: true } } });
    const endedHistory = await historyOf(store, ended);
    expect(endedHistory.at(-1)?.type).toBe('WorkflowCompleted');
    const lateStarts = ['late-1', 'late-2'];
    for (const id of lateStarts) await appendStart(store, id, slow, {});

    let total = 0;
    for await (const _event of store.readAll()) total++;

    // The restart, counting what it reads until it is live.
    const counting = new CountingStore(store);
    const second = await runtimeOn(counting.port(), store, true);
    const readAtStart = counting.events;
    const inFlightEvents = (await Promise.all([...stillHeld, ended, ...lateStarts].map(async (id) => (await historyOf(store, id)).length))).reduce((a, b) => a + b, 0);
    // The index (one event), the workflows it names, and the tail: the events after the index's
    // position (which trails the log by up to an interval), and for each ended workflow met there
    // its last event. Not the completed history.
    expect(readAtStart).toBeLessThanOrEqual(1 + 2 * inFlightEvents + 2 * INDEX_POSITION_INTERVAL);
    expect(readAtStart).toBeLessThan(total / 5);

    // The ones in flight (held, and started after the index) complete; the one that ended stays as it was.
    for (const id of [...stillHeld, ...lateStarts]) expect((await second.runtime.waitForEnd(id)).status).toBe('completed');
    expect(second.calls.sort()).toEqual([...stillHeld, ...lateStarts].map((id) => `${id}:hold`).sort());
    expect(await historyOf(store, ended)).toHaveLength(endedHistory.length);
  });

  it('starts from the whole category when there is no index, and keeps one per partition', async () => {
    const store = await openStore('memory:');
    stops.push(() => store.close());
    const noIndex = await runtimeOn(store, store, true, { checkpointIntervalMs: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await noIndex.runtime.startWorkflow(quick, {})).workflowId);
    for (const id of ids) await noIndex.runtime.waitForEnd(id);
    await noIndex.stop();
    let indexes = 0;
    for await (const event of store.readAll()) if (event.stream.startsWith(IN_FLIGHT_INDEX_PREFIX)) indexes++;
    expect(indexes).toBe(0);

    // Without an index the whole category is read (every workflow event), then one is written at the stop.
    const counting = new CountingStore(store);
    const scan = await runtimeOn(counting.port(), store, true);
    expect(counting.events).toBeGreaterThanOrEqual(30 * 6);
    await scan.stop();
    const streams = new Set<string>();
    for await (const event of store.readAll()) if (event.stream.startsWith(IN_FLIGHT_INDEX_PREFIX)) streams.add(event.stream);
    // One per partition of the table this runtime leases (it hosts every definition: table `*`).
    expect([...streams].sort()).toEqual(Array.from({ length: DEFAULT_PARTITIONS }, (_, partition) => partitionIndexStream(ALL_DEFINITIONS, partition)).sort());

    // The next start reads the partition table, the index (a checkpoint per partition) and the (empty) tail only.
    const again = new CountingStore(store);
    await runtimeOn(again.port(), store, true);
    expect(again.events).toBeLessThanOrEqual(1 + DEFAULT_PARTITIONS);
  });
});
