/**
 * A wide workflow across a restart: the new runtime rebuilds every step's timer from the folded
 * state, and from then on re-arms only the timers of the steps each decision changed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AgentFailure } from '../../src/agents/index.js';
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
  it('re-sends every attempt left running with its timer re-armed; those that fail are retried at their retry timer, and it completes', async () => {
    const width = 400;
    const store = await openStore('memory:');
    stores = [store];
    const hang = (ctx: { signal: AbortSignal }) => new Promise<null>((resolve) => ctx.signal.addEventListener('abort', () => resolve(null)));
    // The first runtime's agent never answers: every step is in flight when it stops.
    const first = await startTestEngine({ store, agents: [agent('silent', ['work'], { work: (_input, ctx) => hang(ctx) })] });
    engines = [first];
    const steps = Array.from({ length: width }, (_, i) => ({
      // A long timeout: on a loaded machine a short one could pass before the first runtime stops,
      // and the attempts would have timed out instead of being left running.
      id: `s${i}`, action: 'work', capability: 'work', timeoutMs: 60_000,
      retry: { maxAttempts: 2, initialDelayMs: 10, multiplier: 1, maxDelayMs: 10, jitter: 0 },
    }));
    const { workflowId } = await first.runtime.startWorkflow({ name: 'wide', failureStrategy: 'fail', steps }, {});
    expect(first.runtime.stats().timers).toBe(width);
    await first.stop();
    engines = [];

    // The second runtime's agent fails the first try of odd-numbered steps (retryable), answers the rest.
    const answers = (_input: unknown, ctx: { call: { stepId: string; attempt: number } }) => {
      if (Number(ctx.call.stepId.slice(1)) % 2 === 1 && ctx.call.attempt === 1) throw new AgentFailure('busy', 'busy', true);
      return { done: true };
    };
    // (Its circuit must not open over these failures: then the retries would wait for an agent.)
    const second = await startTestEngine({ store, agents: [agent('quick', ['work'], { work: answers })], circuitBreaker: { failureThreshold: 10 * width } });
    engines = [second];
    // Caught up: one timer per step, rebuilt from the folded state.
    expect(second.runtime.stats().timers).toBe(width);
    const end = await second.runtime.waitForEnd(workflowId);

    expect(end.status).toBe('completed');
    const history = await historyOf(store, workflowId);
    const count = (type: string) => history.filter((e) => e.type === type).length;
    // Every attempt left running is re-sent; each failure's retry timer is armed, fires, and its
    // second attempt succeeds.
    expect({ resumed: count('StepResumed'), failed: count('StepFailed'), retries: count('StepRetryScheduled'), succeeded: count('StepSucceeded') })
      .toEqual({ resumed: width, failed: width / 2, retries: width / 2, succeeded: width });
    expect(history.filter((e) => e.type === 'StepSucceeded' && dataOf(e).attempt === 2)).toHaveLength(width / 2);
    expect(second.runtime.stats().timers).toBe(0);
  });
});
