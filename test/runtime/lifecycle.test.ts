/**
 * What docs/runtime.md promises about a runtime's life that no other test would notice breaking:
 * stop() aborts the agent calls in flight; a workflow's trigger group is closed once it has ended
 * (groups do not pile up); a conflicting append is decided again, up to `maxConflictRetries`.
 */
import { Session } from 'node:inspector/promises';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { WrongExpectedVersionError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import type { AppendOptions, EventData, EventStore } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { waitFor } from '../support/wait-for.js';
import { agent, deferred, startTestEngine, type TestEngine } from './support.js';

let engine: TestEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

const oneStep = (name: string) => workflow(name).step({ id: 'work', action: 'work', capability: 'work', timeoutMs: 10_000 }).build();

describe('stop', () => {
  it('aborts the agent calls in flight and waits for them to settle', async () => {
    const signals: AbortSignal[] = [];
    let settled = 0;
    engine = await startTestEngine({
      agents: [agent('holder', ['work'], {
        // Answers only when aborted: without the abort, stop() would leave it hanging.
        work: (_input, ctx) => new Promise((resolve) => {
          signals.push(ctx.signal);
          ctx.signal.addEventListener('abort', () => {
            settled++;
            resolve({ late: true });
          });
        }),
      })],
    });
    for (let i = 0; i < 3; i++) await engine.runtime.startWorkflow(oneStep('held'), {});
    await waitFor(() => signals.length === 3, { what: 'three agent calls to be in flight' });
    await engine.runtime.stop();
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true, true]);
    expect(settled).toBe(3);
    expect(engine.runtime.stats().activeCalls).toBe(0);
  });
});

/** How many live objects have `prototype` in their chain (the inspector collects garbage first). */
async function liveInstances(prototype: object): Promise<number> {
  const session = new Session();
  session.connect();
  const probe = globalThis as { cadenzaPrototypeProbe?: object };
  probe.cadenzaPrototypeProbe = prototype;
  try {
    const { result } = await session.post('Runtime.evaluate', { expression: 'globalThis.cadenzaPrototypeProbe' });
    const { objects } = await session.post('Runtime.queryObjects', { prototypeObjectId: result.objectId! });
    const { result: length } = await session.post('Runtime.callFunctionOn', { objectId: objects.objectId!, functionDeclaration: 'function () { return this.length; }', returnByValue: true });
    await session.post('Runtime.releaseObject', { objectId: objects.objectId! });
    return length.value as number;
  } finally {
    delete probe.cadenzaPrototypeProbe;
    session.disconnect();
  }
}

describe('trigger groups', () => {
  it('closes the group of a workflow that has ended: groups do not accumulate', async () => {
    const gate = deferred();
    engine = await startTestEngine({
      agents: [agent('gated', ['work'], { work: async () => { await gate.promise; return {}; } }), agent('quick', ['quick'], { work: () => ({}) })],
    });
    const def = oneStep('grouped');
    // One workflow first, so that what the runtime keeps for good is counted in the baseline.
    const warmUp = workflow('warm-up').step({ id: 'work', action: 'work', capability: 'quick' }).build();
    expect((await engine.runtime.waitForEnd((await engine.runtime.startWorkflow(warmUp, {})).workflowId)).status).toBe('completed');
    const before = await liveInstances(Subject.prototype);
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await engine.runtime.startWorkflow(def, {})).workflowId);
    // While they run, each has a group (a subject, and the subject that closes it): the probe sees them.
    expect(await liveInstances(Subject.prototype)).toBeGreaterThanOrEqual(before + 60);
    gate.resolve();
    for (const id of ids) expect((await engine.runtime.waitForEnd(id)).status).toBe('completed');
    await waitFor(async () => (await liveInstances(Subject.prototype)) < before + 10, {
      what: `the trigger groups of 60 ended workflows to be closed (${before} subjects before them)`,
    });
  });
});

/** The store, except that the first `count` appends to `stream` after the first expect a stale revision: real conflicts. */
function conflicting(store: EventStore, stream: () => string, count: number): EventStore & { forced: number } {
  const wrapper = Object.create(store) as EventStore & { forced: number };
  wrapper.forced = 0;
  let seen = 0;
  wrapper.append = (name: string, events: readonly EventData[], options?: AppendOptions) => {
    if (name !== stream() || seen++ === 0 || wrapper.forced >= count) return store.append(name, events, options);
    wrapper.forced++;
    return store.append(name, events, { ...options, expectedRevision: 'no_stream' });
  };
  return wrapper;
}

describe('conflicts', () => {
  it('reloads and decides again after each conflict, as many times as it takes up to maxConflictRetries (default 20)', async () => {
    const store = await openStore('memory:');
    let target = '';
    const flaky = conflicting(store, () => target, 20);
    try {
      engine = await startTestEngine({ store: flaky, agents: [agent('worker', ['work'], { work: () => ({ done: true }) })] });
      target = 'workflow-contested';
      await engine.runtime.startWorkflow(oneStep('contested'), {}, { workflowId: 'contested' });
      await waitFor(async () => (await engine!.runtime.getState('contested')).status === 'completed', { what: 'the workflow to complete despite 20 conflicting appends (the default limit)' });
      expect(flaky.forced).toBe(20);
      expect(engine.runtime.stats().conflicts).toBe(20);
    } finally {
      await engine?.stop();
      engine = undefined;
      await store.close();
    }
  });

  it('gives the decision up after maxConflictRetries conflicts in a row', async () => {
    const store = await openStore('memory:');
    const flaky = conflicting(store, () => 'workflow-hopeless', 1_000);
    try {
      const hangs = agent('hangs', ['work'], { work: (_input, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({}))) });
      engine = await startTestEngine({ store: flaky, agents: [hangs], runtime: { maxConflictRetries: 3 } });
      await engine.runtime.startWorkflow(oneStep('hopeless'), {}, { workflowId: 'hopeless' });
      // A cancel is a command: its caller hears of the conflict that outlasted the retries.
      await expect(engine.runtime.cancel('hopeless')).rejects.toBeInstanceOf(WrongExpectedVersionError);
      expect(flaky.forced).toBe(4);
      expect(engine.runtime.stats().conflicts).toBe(3);
    } finally {
      await engine?.stop();
      engine = undefined;
      await store.close();
    }
  });
});
