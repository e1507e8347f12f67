/** A runtime keeps following other processes' appends when its subscription fails. */
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { EventStore, Subscription, SubscribeToAllOptions, SubscriptionMessage } from '../../src/store/port.js';
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
});
