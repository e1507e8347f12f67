/**
 * A lease past its validity (docs/scaling.md, "Safety"): a runtime stops acting on its partitions a
 * margin before its lease runs out, and a renewal that comes back late extends it again without any
 * partition changing hands. What was met in between is not lost: a trigger (a timer, an agent that
 * appeared) is decided, and calls stored while the validity ran out are re-sent under their keys,
 * once the renewal is stored.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PARTITION_TABLE_PREFIX } from '../../src/saga/runtime/partitions.js';
import { WORKFLOW_STREAM_PREFIX } from '../../src/saga/stream/index.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { settlesWithin, waitFor } from '../support/wait-for.js';
import { agent, deferred, historyOf, startTestEngine, type TestEngine } from './support.js';

const engines: TestEngine[] = [];
const stores: EventStore[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop();
  for (const store of stores.splice(0)) await store.close();
});

/** Appends to streams starting with a held prefix wait until it is released, as appends stuck behind a loaded store do. */
class Gate {
  held = 0;
  #holding = false;
  #release = deferred<void>();
  hold(): void {
    this.#holding = true;
  }
  release(): void {
    this.#holding = false;
    this.#release.resolve();
    this.#release = deferred<void>();
  }
  async pass(): Promise<void> {
    if (!this.#holding) return;
    this.held++;
    await this.#release.promise;
  }
}

async function heldStore() {
  const inner = await openStore('memory:');
  stores.push(inner);
  const renewals = new Gate();
  const workflows = new Gate();
  const store = new Proxy(inner, {
    get: (target, property, receiver) => {
      if (property !== 'append') return Reflect.get(target, property, receiver) as unknown;
      return async (stream: string, ...rest: unknown[]) => {
        if (stream.startsWith(PARTITION_TABLE_PREFIX)) await renewals.pass();
        if (stream.startsWith(WORKFLOW_STREAM_PREFIX)) await workflows.pass();
        return (target.append as (...args: unknown[]) => Promise<unknown>)(stream, ...rest);
      };
    },
  });
  return { inner, store, renewals, workflows };
}

/** TTL 1.5 s: renewals every 500 ms; a renewal keeps the lease valid until 1.35 s after it was computed. */
async function engineOn(store: EventStore, clock: { now: number }, agents: Parameters<typeof startTestEngine>[0]['agents']) {
  const logged: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logged.push(line) });
  const engine = await startTestEngine({ store, agents, runtime: { now: () => clock.now, leaseTtlMs: 1_500, checkpointIntervalMs: 0, logger } });
  engines.push(engine);
  return { engine, logged };
}

describe('a lease renewed late', () => {
  it('decides a wake met while the lease was past its validity once the renewal is stored', async () => {
    const { inner, store, renewals } = await heldStore();
    const clock = { now: 1_000_000 };
    const { engine, logged } = await engineOn(store, clock, []);
    const late = workflow('late-agent').step({ id: 'work', action: 'work', capability: 'late', timeoutMs: 600_000 }).build();
    const { workflowId } = await engine.runtime.startWorkflow(late, {});
    await waitFor(async () => (await historyOf(inner, workflowId)).some((event) => event.type === 'StepWaitingForAgent'), { what: 'the step to wait for an agent' });

    // A renewal computed at +1 s is held; meanwhile the clock passes the validity of the last one.
    clock.now += 1_000;
    renewals.hold();
    await waitFor(() => renewals.held > 0, { what: 'a renewal to be held' });
    clock.now += 400;
    await engine.registry.register(agent('latecomer', ['late'], { work: () => ({ done: true }) }));
    await waitFor(() => logged.some((line) => line.includes('trigger deferred until it is renewed')), { what: 'the wake to be deferred while the lease is past its validity' });
    expect((await historyOf(inner, workflowId)).map((event) => event.type)).not.toContain('StepScheduled');

    // The renewal is stored: valid again, no partition changed hands, and the wake is decided.
    renewals.release();
    expect((await settlesWithin(engine.runtime.waitForEnd(workflowId), { what: 'the workflow to end once the renewal was stored' })).status).toBe('completed');
    expect(logged.some((line) => line.includes('partitions taken over'))).toBe(false);
  });

  it('re-sends, under its key, a call stored while the validity ran out, once the renewal is stored', async () => {
    const { inner, store, renewals, workflows } = await heldStore();
    const clock = { now: 1_000_000 };
    const keys: string[] = [];
    const { engine, logged } = await engineOn(store, clock, [agent('worker', ['work'], { work: (_input, context) => { keys.push(context.idempotencyKey); return { done: true }; } })]);
    const job = workflow('job').step({ id: 'work', action: 'work', capability: 'work', timeoutMs: 600_000 }).build();

    // The start (with its StepScheduled) is decided while valid, then its append is held...
    workflows.hold();
    const started = engine.runtime.startWorkflow(job, {}, { workflowId: 'stored-late' });
    await waitFor(() => workflows.held > 0, { what: 'the start to be held' });
    // ...while a renewal computed at +1 s is held too, and the clock passes the last validity.
    clock.now += 1_000;
    renewals.hold();
    await waitFor(() => renewals.held > 0, { what: 'a renewal to be held' });
    clock.now += 400;
    workflows.release();
    await started;
    // Stored, but past the validity: no call made.
    await waitFor(() => logged.some((line) => line.includes('trigger deferred until it is renewed')), { what: 'the re-send to be deferred' });
    expect(keys).toEqual([]);

    renewals.release();
    expect((await settlesWithin(engine.runtime.waitForEnd('stored-late'), { what: 'the workflow to end once the renewal was stored' })).status).toBe('completed');
    const history = (await historyOf(inner, 'stored-late')).map((event) => event.type);
    expect(history).toEqual(['WorkflowStarted', 'StepScheduled', 'StepResumed', 'StepSucceeded', 'WorkflowCompleted']);
    // One call, under the key the StepScheduled stored.
    expect(keys).toHaveLength(1);
  });
});
