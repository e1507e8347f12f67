/**
 * docs/embedding.md (the config) and docs/runtime.md: `maxInFlight`, "workflows started by this
 * process at once (default 1000)". A runtime started without it takes 1,000 workflows in and queues
 * the 1,001st. Their one step's capability has no agent, so each admitted workflow keeps its slot
 * (it waits for an agent) and nothing is called.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { workflow } from '../../src/workflow/index.js';
import { startTestEngine, type TestEngine } from '../runtime/support.js';

let engine: TestEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

describe('maxInFlight left out', () => {
  it('admits 1,000 workflows at once and queues the next', async () => {
    engine = await startTestEngine({ agents: [] });
    const runtime = engine.runtime;
    const waits = workflow('waits-for-an-agent').step({ id: 'only', action: 'act', capability: 'nobody-has-it' }).build();
    const starts: { workflowId: string; queued: boolean }[] = [];
    for (let i = 0; i < 1000; i += 100) {
      starts.push(...(await Promise.all(Array.from({ length: 100 }, (_, j) => runtime.startWorkflow(waits, {}, { workflowId: `w-${i + j}` })))));
    }
    expect(starts.filter((start) => start.queued)).toEqual([]);
    expect(await runtime.startWorkflow(waits, {}, { workflowId: 'w-1000' })).toEqual({ workflowId: 'w-1000', queued: true });
    expect(runtime.stats()).toMatchObject({ inFlight: 1000, backlog: 1, maxInFlight: 1000 });
  }, 120_000);
});
