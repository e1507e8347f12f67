/**
 * docs/architecture.md, "Side effects follow durable facts": "An agent is called only after its
 * StepScheduled is stored". The store's append is slowed on purpose (a real memory store behind the
 * port), so that a runtime calling while its append is still on the way would be seen calling first.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { workflow } from '../../src/workflow/builder.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { agent, historyOf, startTestEngine, type TestEngine } from './support.js';

let engine: TestEngine | undefined;
let inner: EventStore | undefined;
afterEach(async () => {
  await engine?.stop();
  await inner?.close();
  engine = inner = undefined;
});

describe('docs/architecture.md: "An agent is called only after its StepScheduled is stored"', () => {
  it('calls each attempt after the append that schedules it has returned, never while it is on the way', async () => {
    inner = await openStore('memory:');
    const order: string[] = [];
    const base = inner;
    // Every append that schedules a call takes a while to come back; what it stored is logged when it has.
    const slow = new Proxy(base, {
      get: (target, property, receiver) => {
        if (property === 'append') {
          return async (...args: Parameters<EventStore['append']>) => {
            const scheduled = args[1].filter((e) => e.type === 'StepScheduled').map((e) => (e.data as { stepId: string }).stepId);
            if (scheduled.length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
            const result = await base.append(...args);
            for (const stepId of scheduled) order.push(`stored ${stepId}`);
            return result;
          };
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    engine = await startTestEngine({
      store: slow,
      agents: [agent('worker', ['work'], {
        first: () => (order.push('called first'), { ok: true }),
        second: () => (order.push('called second'), { ok: true }),
      })],
    });
    const fast = { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1 };
    const two = workflow('two-steps')
      .step({ id: 'first', action: 'first', capability: 'work', retry: fast })
      .step({ id: 'second', action: 'second', capability: 'work', dependsOn: ['first'], retry: fast })
      .build();
    const { workflowId } = await engine.runtime.startWorkflow(two, {});
    expect((await engine.runtime.waitForEnd(workflowId)).status).toBe('completed');
    expect(order).toEqual(['stored first', 'called first', 'stored second', 'called second']);
    expect((await historyOf(base, workflowId)).filter((e) => e.type === 'StepScheduled')).toHaveLength(2);
  });
});
