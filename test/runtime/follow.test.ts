/**
 * A runtime keeps following other processes' appends when its subscription fails; its own appends,
 * which come back on the subscription too, are passed over unread even when they come back before
 * the append's answer, and an append another process beat to the same revision is not lost by that.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sendDirect } from '../../src/operations/commands.js';
import { openStore } from '../../src/store/open.js';
import type { AppendOptions, AppendResult, EventData, EventStore, Subscription, SubscribeToAllOptions, SubscriptionMessage } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { waitFor } from '../support/wait-for.js';
import { agent, deferred, startTestEngine, type TestEngine } from './support.js';

/** The store, except that its first subscription to the workflow category fails once live and past one event. */
function failingOnceAfterLive(store: EventStore): EventStore & { failures: number } {
  let failed = false;
  const wrapper = Object.create(store) as EventStore & { failures: number };
  wrapper.failures = 0;
  wrapper.subscribeToAll = (options?: SubscribeToAllOptions): Subscription => {
    const inner = store.subscribeToAll(options);
    const workflows = options?.filter !== undefined && 'streamNamePrefix' in options.filter && options.filter.streamNamePrefix.includes('workflow-');
    if (failed || !workflows) return inner;
    failed = true;
    return {
      unsubscribe: () => inner.unsubscribe(),
      async *[Symbol.asyncIterator](): AsyncGenerator<SubscriptionMessage> {
        let live = false;
        for await (const message of inner) {
          yield message;
          if (message.kind === 'caughtUp') live = true;
          else if (live && message.kind === 'event') {
            wrapper.failures++;
            await inner.unsubscribe();
            throw new Error('connection reset (simulated)');
          }
        }
      },
    };
  };
  return wrapper;
}

/**
 * The store, except that an append to a workflow stream first waits for `before` (if given), and
 * answers only once the store's subscribers have had time to see what it wrote: a runtime's own
 * events then always come back on its subscription ahead of the append's answer.
 */
function answeringLate(store: EventStore, before?: (stream: string) => Promise<void>): EventStore {
  const wrapper = Object.create(store) as EventStore;
  wrapper.append = async (stream: string, events: readonly EventData[], options?: AppendOptions): Promise<AppendResult> => {
    if (!stream.startsWith('workflow-')) return store.append(stream, events, options);
    await before?.(stream);
    const result = await store.append(stream, events, options);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return result;
  };
  return wrapper;
}

let engines: TestEngine[] = [];
afterEach(async () => {
  for (const engine of engines) await engine.stop();
  engines = [];
});

describe('following the store', () => {
  it('follows again from the last position after its subscription fails', async () => {
    const store = await openStore('memory:');
    const flaky = failingOnceAfterLive(store);
    const gate = deferred();
    // A guest: it has no agents, so it must not take partitions (and their workflows) from the worker.
    const observer = await startTestEngine({ store: flaky, agents: [], runtime: { leases: 'guest' } });
    const worker = await startTestEngine({ store, agents: [agent('w', ['work'], { a: () => ({}), b: async () => { await gate.promise; return {}; } })] });
    engines = [worker, observer];
    const def = workflow('two').step({ id: 'a', action: 'a', capability: 'work' }).step({ id: 'b', action: 'b', capability: 'work', dependsOn: ['a'] }).build();

    const { workflowId } = await worker.runtime.startWorkflow(def, {});
    // The observer's subscription breaks on the first live event (this workflow's start).
    await waitFor(() => flaky.failures > 0, { what: "the observer's subscription to fail on its first live event" });
    const seen = observer.runtime.waitForEnd(workflowId);
    gate.resolve();
    // The end reaches the observer only if it followed the store again after the failure.
    expect((await seen).status).toBe('completed');
    expect(flaky.failures).toBe(1);
  });

  it("passes over its own events unread when they come back before the append's answer", async () => {
    const store = answeringLate(await openStore('memory:'));
    const engine = await startTestEngine({ store, agents: [agent('w', ['work'], { a: () => ({}), b: () => ({}) })] });
    engines = [engine];
    const def = workflow('two').step({ id: 'a', action: 'a', capability: 'work' }).step({ id: 'b', action: 'b', capability: 'work', dependsOn: ['a'] }).build();
    const ids = await Promise.all(Array.from({ length: 20 }, async () => (await engine.runtime.startWorkflow(def, {})).workflowId));
    for (const id of ids) expect((await engine.runtime.waitForEnd(id)).status).toBe('completed');
    const stats = engine.runtime.stats();
    expect(stats.appendedEvents).toBeGreaterThanOrEqual(20 * 6);
    // Every one of them came back while its append waited for its answer, and none was handed over.
    expect(stats.decodedEvents).toBe(0);
    expect(stats.decodedOwnEvents).toBe(0);
  });

  it('still folds what another process appended at a revision its own append in progress was writing', async () => {
    const inner = await openStore('memory:');
    const workflowId = 'held-1';
    const held = deferred();
    const arrived = deferred();
    let appends = 0;
    // The workflow's second decision (step a's success, step b scheduled) waits until another
    // process has cancelled the workflow at the revision it writes: that append then conflicts.
    const store = answeringLate(inner, async (stream) => {
      if (stream !== `workflow-${workflowId}` || ++appends !== 2) return;
      arrived.resolve();
      await held.promise;
    });
    const engine = await startTestEngine({ store, agents: [agent('w', ['work'], { a: () => ({}), b: () => ({}) })] });
    engines = [engine];
    const def = workflow('two').step({ id: 'a', action: 'a', capability: 'work' }).step({ id: 'b', action: 'b', capability: 'work', dependsOn: ['a'] }).build();
    await engine.runtime.startWorkflow(def, {}, { workflowId });
    await arrived.promise;
    await sendDirect(inner, workflowId, { type: 'cancel', reason: 'by another process' });
    // The runtime's subscription brings the cancel while its own append is still in progress.
    await new Promise((resolve) => setTimeout(resolve, 20));
    held.resolve();
    const end = await engine.runtime.waitForEnd(workflowId);
    expect(end.status).toBe('cancelled');
    expect(engine.runtime.stats().conflicts).toBe(1);
  });

  it('names its own writer on every append of a decision, the writer its subscription asks the store to leave out', async () => {
    const inner = await openStore('memory:');
    const writers: (string | undefined)[] = [];
    const excluded: (string | undefined)[] = [];
    const store = Object.create(inner) as EventStore;
    store.append = (stream: string, events: readonly EventData[], options?: AppendOptions) => {
      if (stream.startsWith('workflow-')) writers.push(options?.writer);
      return inner.append(stream, events, options);
    };
    store.subscribeToAll = (options?: SubscribeToAllOptions) => {
      excluded.push(options?.excludeWriter);
      return inner.subscribeToAll(options);
    };
    const engine = await startTestEngine({ store, agents: [agent('w', ['work'], { a: () => ({}), b: () => ({}) })] });
    engines = [engine];
    const def = workflow('two').step({ id: 'a', action: 'a', capability: 'work' }).step({ id: 'b', action: 'b', capability: 'work', dependsOn: ['a'] }).build();
    const { workflowId } = await engine.runtime.startWorkflow(def, {});
    expect((await engine.runtime.waitForEnd(workflowId)).status).toBe('completed');
    const own = excluded.filter((writer) => writer !== undefined);
    expect(own).toHaveLength(1);
    expect(writers.length).toBeGreaterThanOrEqual(3);
    expect(new Set(writers)).toEqual(new Set(own));
  });
});
