/**
 * docs/runtime.md: `onTransitions` tells each decision the runtime appends, whole (its events and the
 * state after each), and each event it observes from another process; `transitions$` is the same
 * feed one event at a time. A listener that throws is logged and never stops the runtime; a removed
 * listener hears nothing more. Events the runtime learns only by reading a stream back (a start
 * stored though its append was given up) are told too, once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import type { AppendOptions, EventData, EventStore } from '../../src/store/port.js';
import type { WorkflowEvent } from '../../src/saga/events.js';
import type { WorkflowState } from '../../src/saga/state.js';
import { decideAndAppend } from '../../src/saga/stream/append.js';
import { workflowIdOf } from '../../src/saga/stream/index.js';
import type { Transition } from '../../src/saga/runtime/index.js';
import { workflow } from '../../src/workflow/index.js';
import { waitFor } from '../support/wait-for.js';
import { agent, historyOf, losingStartAnswers, startTestEngine, type TestEngine } from './support.js';

let engine: TestEngine | undefined;
let ownStore: EventStore | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  await ownStore?.close();
  ownStore = undefined;
});

const twoSteps = workflow('two-steps')
  .step({ id: 'first', action: 'work', capability: 'work', timeoutMs: 10_000 })
  .step({ id: 'second', action: 'work', capability: 'work', dependsOn: ['first'], timeoutMs: 10_000 })
  .build();

interface Told {
  readonly workflowId: string;
  readonly events: readonly WorkflowEvent[];
  readonly states: readonly WorkflowState[];
}

describe('transitions', () => {
  it('tells each appended decision whole, in the stream’s order, with the state after each event; transitions$ the same one event at a time', async () => {
    engine = await startTestEngine({ agents: [agent('worker', ['work'], { work: () => ({ done: true }) })] });
    const told: Told[] = [];
    const seen: Transition[] = [];
    engine.runtime.onTransitions((workflowId, events, states) => told.push({ workflowId, events: [...events], states: [...states] }));
    const subscription = engine.runtime.transitions$.subscribe((transition) => seen.push(transition));
    const { workflowId } = await engine.runtime.startWorkflow(twoSteps, {});
    await engine.runtime.waitForEnd(workflowId);
    subscription.unsubscribe();

    const history = await historyOf(engine.store, workflowId);
    const toldEvents = told.flatMap((decision) => decision.events);
    expect(toldEvents.map((event) => event.id)).toEqual(history.map((event) => event.id));
    // More events than calls: a decision comes as one call (the start schedules its first step with it).
    expect(told.length).toBeLessThan(toldEvents.length);
    expect(told[0]?.events.map((event) => event.type)).toEqual(['WorkflowStarted', 'StepScheduled']);
    for (const decision of told) {
      expect(decision.workflowId).toBe(workflowId);
      expect(decision.states).toHaveLength(decision.events.length);
    }
    // The state after each event, not the decision's last state for all of them.
    expect(told.flatMap((decision) => decision.states.map((state) => state.revision))).toEqual(history.map((event) => Number(event.revision)));
    expect(told.at(-1)?.states.at(-1)?.status).toBe('completed');

    expect(seen.map(({ event }) => event.id)).toEqual(toldEvents.map((event) => event.id));
    expect(seen.map(({ state }) => state.revision)).toEqual(history.map((event) => Number(event.revision)));
  });

  it('tells an event another process appended, as one event', async () => {
    engine = await startTestEngine({ agents: [agent('worker', ['work'], { work: () => new Promise(() => undefined) })] });
    const { workflowId } = await engine.runtime.startWorkflow(twoSteps, {});
    const told: Told[] = [];
    engine.runtime.onTransitions((id, events, states) => told.push({ workflowId: id, events: [...events], states: [...states] }));
    // An operator's cancel appended without this runtime (as `cadenza cancel` does against a store).
    const appended = await decideAndAppend(engine.store, workflowId, { kind: 'command', command: { type: 'cancel', reason: 'from elsewhere' } });
    expect(appended.length).toBeGreaterThan(0);
    await waitFor(() => told.some((decision) => decision.events.some((event) => event.id === appended[0]?.id)), { what: 'the runtime to tell the event another process appended' });
    const observed = told.find((decision) => decision.events.some((event) => event.id === appended[0]?.id));
    expect(observed?.events).toHaveLength(1);
    expect(observed?.states[0]?.revision).toBe(2);
  });

  it('logs a listener that throws, goes on, and stops telling a removed listener', async () => {
    engine = await startTestEngine({ agents: [agent('worker', ['work'], { work: () => ({ done: true }) })] });
    let thrown = 0;
    let heard = 0;
    engine.runtime.onTransitions(() => {
      thrown++;
      throw new Error('a broken listener');
    });
    const remove = engine.runtime.onTransitions(() => heard++);
    const first = await engine.runtime.startWorkflow(twoSteps, {});
    expect((await engine.runtime.waitForEnd(first.workflowId)).status).toBe('completed');
    expect(thrown).toBeGreaterThan(0);
    const heardBefore = heard;
    expect(heardBefore).toBe(thrown);
    remove();
    const second = await engine.runtime.startWorkflow(twoSteps, {});
    expect((await engine.runtime.waitForEnd(second.workflowId)).status).toBe('completed');
    expect(heard).toBe(heardBefore);
    expect(thrown).toBeGreaterThan(heardBefore);
  });

  it('tells the events of a start stored though its append was given up, once the runtime reads them back', async () => {
    const backing = await openStore('memory:');
    ownStore = backing;
    // The start lands, its answers are lost: the runtime gives up (UnavailableError) and later reads
    // the stream back, the only way it learns of those events.
    const { store, stopLosing } = losingStartAnswers(backing);
    engine = await startTestEngine({ store, agents: [agent('worker', ['work'], { work: () => ({ done: true }) })], runtime: { appendRetryLimitMs: 100 } });
    const seen: Transition[] = [];
    const subscription = engine.runtime.transitions$.subscribe((transition) => seen.push(transition));
    await expect(engine.runtime.startWorkflow(twoSteps, {}, { workflowId: 'given-up-start' })).rejects.toThrow(UnavailableError);
    stopLosing();
    // Read back about a second later (docs/runtime.md), then driven to its end.
    expect((await engine.runtime.waitForEnd('given-up-start')).status).toBe('completed');
    subscription.unsubscribe();
    const history = await historyOf(backing, 'given-up-start');
    expect(history.slice(0, 2).map((event) => event.type)).toEqual(['WorkflowStarted', 'StepScheduled']);
    // Every event once, the read-back start included, each with the state after it.
    expect(seen.map(({ event }) => event.id)).toEqual(history.map((event) => event.id));
    expect(seen.map(({ state }) => state.revision)).toEqual(history.map((event) => Number(event.revision)));
  }, 15_000);

  it('tells the events another process appended that the runtime learns from a conflict, once', async () => {
    const backing = await openStore('memory:');
    ownStore = backing;
    // Just before the runtime stores its first step's result, an operator's cancel is appended
    // elsewhere: the runtime's append conflicts, it reads the stream back and decides again, and the
    // cancel's later delivery is passed over as known. Only the read-back can tell it.
    let interposed: readonly { readonly id: string }[] | undefined;
    const store = new Proxy(backing, {
      get: (target, property) => {
        const value = Reflect.get(target, property, target) as unknown;
        if (property !== 'append') return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
        return async (stream: string, events: EventData[], options?: AppendOptions) => {
          if (interposed === undefined && events.some((event) => event.type === 'StepSucceeded')) {
            interposed = await decideAndAppend(target, workflowIdOf(stream) ?? stream, { kind: 'command', command: { type: 'cancel', reason: 'from elsewhere' } });
          }
          return target.append(stream, events, options);
        };
      },
    });
    engine = await startTestEngine({ store, agents: [agent('worker', ['work'], { work: () => ({ done: true }) })] });
    const seen: Transition[] = [];
    const subscription = engine.runtime.transitions$.subscribe((transition) => seen.push(transition));
    const { workflowId } = await engine.runtime.startWorkflow(twoSteps, {});
    const end = await engine.runtime.waitForEnd(workflowId);
    subscription.unsubscribe();
    expect(interposed?.length).toBeGreaterThan(0);
    expect(engine.runtime.stats().conflicts).toBeGreaterThan(0);
    expect(end.status).not.toBe('completed');
    const history = await historyOf(backing, workflowId);
    expect(history.map((event) => event.id)).toEqual(expect.arrayContaining((interposed ?? []).map((event) => event.id)));
    expect(seen.map(({ event }) => event.id)).toEqual(history.map((event) => event.id));
  });
});
