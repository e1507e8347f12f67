/**
 * A lease past its validity (docs/scaling.md, "Ownership"): a runtime stops acting on its
 * partitions a margin before its lease runs out, and a renewal that comes back late extends it
 * again without any partition changing hands. A trigger met in between (a timer, an agent that
 * appeared) is not lost: it is decided once the renewal is stored.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PARTITION_TABLE_PREFIX } from '../../src/saga/runtime/partitions.js';
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

describe('a lease renewed late', () => {
  it('decides a wake met while the lease was past its validity once the renewal is stored', async () => {
    const inner = await openStore('memory:');
    stores.push(inner);
    // Renewals of the partition table wait while `holding`, as a renewal stuck behind a loaded store does.
    let holding = false;
    let held = 0;
    let release = deferred<void>();
    const store = new Proxy(inner, {
      get: (target, property, receiver) => {
        if (property !== 'append') return Reflect.get(target, property, receiver) as unknown;
        return async (stream: string, ...rest: unknown[]) => {
          if (holding && stream.startsWith(PARTITION_TABLE_PREFIX)) {
            held++;
            await release.promise;
          }
          return (target.append as (...args: unknown[]) => Promise<unknown>)(stream, ...rest);
        };
      },
    });
    let clock = 1_000_000;
    const logged: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logged.push(line) });
    // TTL 1.5 s: renewals every 500 ms; the lease is valid until 1.35 s after a renewal was computed.
    const engine = await startTestEngine({ store, agents: [], runtime: { now: () => clock, leaseTtlMs: 1_500, checkpointIntervalMs: 0, logger } });
    engines.push(engine);
    const late = workflow('late-agent').step({ id: 'work', action: 'work', capability: 'late', timeoutMs: 600_000 }).build();
    const { workflowId } = await engine.runtime.startWorkflow(late, {});
    await waitFor(async () => (await historyOf(inner, workflowId)).some((event) => event.type === 'StepWaitingForAgent'), { what: 'the step to wait for an agent' });

    // A renewal computed at +1 s is held; meanwhile the clock passes the validity of the last one.
    clock += 1_000;
    holding = true;
    await waitFor(() => held > 0, { what: 'a renewal to be held' });
    clock += 400;
    await engine.registry.register(agent('latecomer', ['late'], { work: () => ({ done: true }) }));
    await waitFor(() => logged.some((line) => line.includes('trigger deferred until it is renewed')), { what: 'the wake to be deferred while the lease is past its validity' });
    expect((await historyOf(inner, workflowId)).map((event) => event.type)).not.toContain('StepScheduled');

    // The renewal is stored: valid again, no partition changed hands, and the wake is decided.
    holding = false;
    release.resolve();
    release = deferred<void>();
    expect((await settlesWithin(engine.runtime.waitForEnd(workflowId), { what: 'the workflow to end once the renewal was stored' })).status).toBe('completed');
    expect(logged.some((line) => line.includes('partitions taken over'))).toBe(false);
  });
});
