/**
 * A wide workflow across a restart: the new runtime rebuilds every step's timer from the folded
 * state, and from then on re-arms only the timers of the steps each decision changed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { agent, dataOf, historyOf, startTestEngine, type TestEngine } from './support.js';

let engines: TestEngine[] = [];
let stores: EventStore[] = [];
afterEach(async () => {
  for (const engine of engines) await engine.stop();
  for (const store of stores) await store.close();
  engines = [];
  stores = [];
});

describe('a wide workflow across a restart', () => {
  it('times out every attempt the stopped runtime left running, retries each once, and completes', async () => {
    const width = 400;
    const store = await openStore('memory:');
    stores = [store];
    // The first runtime's agent never answers: every step is in flight when it stops.
    const silent = (_input: unknown, ctx: { signal: AbortSignal }) => new Promise<null>((resolve) => ctx.signal.addEventListener('abort', () => resolve(null)));
    const first = await startTestEngine({ store, agents: [agent('silent', ['work'], { work: silent })] });
    engines = [first];
    const steps = Array.from({ length: width }, (_, i) => ({
      id: `s${i}`, action: 'work', capability: 'work', timeoutMs: 300,
      retry: { maxAttempts: 2, initialDelayMs: 10, multiplier: 1, maxDelayMs: 10, jitter: 0 },
    }));
    const { workflowId } = await first.runtime.startWorkflow({ name: 'wide', failureStrategy: 'fail', steps }, {});
    expect(first.runtime.stats().timers).toBe(width);
    await first.stop();
    engines = [];

    const second = await startTestEngine({ store, agents: [agent('quick', ['work'], { work: () => ({ done: true }) })] });
    engines = [second];
    // Caught up: one timeout per step, rebuilt from the folded state.
    expect(second.runtime.stats().timers).toBe(width);
    const end = await second.runtime.waitForEnd(workflowId);

    expect(end.status).toBe('completed');
    const history = await historyOf(store, workflowId);
    const count = (type: string) => history.filter((e) => e.type === type).length;
    expect({ timedOut: count('StepTimedOut'), retries: count('StepRetryScheduled'), succeeded: count('StepSucceeded') }).toEqual({ timedOut: width, retries: width, succeeded: width });
    expect(new Set(history.filter((e) => e.type === 'StepSucceeded').map((e) => dataOf(e).attempt))).toEqual(new Set([2]));
    expect(second.runtime.stats().timers).toBe(0);
  });
});
