/**
 * The engine's main scenarios on the EventStoreDB path: the runtime talks to the store through
 * @eventstore/db-client and our adapter, over real gRPC, to the embedded EventStoreDB-compatible
 * server. (With ESDB_CONNECTION_STRING set, the store contract also runs against a real server:
 * test/esdb/contract.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEsdbServer, type EsdbServer } from '../../src/esdb-server/index.js';
import { workflow } from '../../src/workflow/index.js';
import { AgentFailure } from '../../src/agents/index.js';
import { openEsdbStore } from '../../src/store/esdb.js';
import { openStore } from '../../src/store/open.js';
import { UnavailableError } from '../../src/store/errors.js';
import type { EventStore } from '../../src/store/port.js';
import { startEmbedded, type Embedded } from '../esdb/support.js';
import { expectCrashRecovery } from './process-support.js';
import { agent, deferred, expectTradeRolledBack, historyOf, losingStartAnswers, startTestEngine, tradingAgentsThatFailPostTrade, type TestEngine } from './support.js';

let embedded: Embedded | undefined;
let engine: TestEngine | undefined;
let dir = '';
/** A server the test stops and starts again over the same backing store. */
let outage: { server: EsdbServer; backing: EventStore } | undefined;
afterEach(async () => {
  await engine?.stop();
  await engine?.store.close();
  await embedded?.stop();
  await outage?.server.close();
  await outage?.backing.close();
  outage = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  engine = undefined;
  embedded = undefined;
  dir = '';
});

describe('the engine on the EventStoreDB path (real client, embedded server)', () => {
  it('rolls back a failed trade by compensation', async () => {
    embedded = await startEmbedded();
    const store = await openEsdbStore(embedded.connectionString);
    const { agents, ledger } = tradingAgentsThatFailPostTrade();
    engine = await startTestEngine({ agents, store });
    await expectTradeRolledBack(engine, ledger);
  });

  it('rides out the server going away: a result that arrives meanwhile is appended once it is back', async () => {
    const backing = await openStore('memory:');
    outage = { backing, server: await startEsdbServer({ store: backing, port: 0 }) };
    const port = outage.server.port;
    const gate = deferred();
    const scheduled = deferred();
    const store = await openEsdbStore(`esdb://127.0.0.1:${port}?tls=false`);
    engine = await startTestEngine({
      store,
      agents: [agent('worker', ['work'], {
        slow: async () => {
          scheduled.resolve();
          await gate.promise;
          return { done: true };
        },
        quick: () => ({ done: true }),
      })],
    });
    const def = workflow('outage')
      .step({ id: 'slow', action: 'slow', capability: 'work', timeoutMs: 60_000 })
      .step({ id: 'after', action: 'quick', capability: 'work', dependsOn: ['slow'], timeoutMs: 60_000 })
      .build();
    const { workflowId } = await engine.runtime.startWorkflow(def, {});
    await scheduled.promise;
    await outage.server.close();
    gate.resolve(); // the agent answers while the store is unreachable
    await new Promise((resolve) => setTimeout(resolve, 300));
    outage.server = await startEsdbServer({ store: backing, port });
    const end = await engine.runtime.waitForEnd(workflowId);
    expect(end.status).toBe('completed');
    const types = (await historyOf(backing, workflowId)).map((e) => e.type);
    expect(types.filter((t) => t === 'StepSucceeded')).toHaveLength(2);
    expect(types.at(-1)).toBe('WorkflowCompleted');
  });

  it('a retry timer that fires during an outage longer than the append retries fires again until it is stored', async () => {
    const backing = await openStore('memory:');
    outage = { backing, server: await startEsdbServer({ store: backing, port: 0 }) };
    const port = outage.server.port;
    const store = await openEsdbStore(`esdb://127.0.0.1:${port}?tls=false`);
    let calls = 0;
    engine = await startTestEngine({
      store,
      agents: [agent('flaky', ['work'], {
        work: () => {
          if (++calls === 1) throw new AgentFailure('busy', 'busy', true);
          return { done: true };
        },
      })],
      runtime: { appendRetryLimitMs: 200 },
    });
    const retryStored = deferred();
    const watching = engine.runtime.transitions$.subscribe(({ event }) => {
      if (event.type === 'StepRetryScheduled') retryStored.resolve();
    });
    const def = workflow('outage-retry').step({ id: 'work', action: 'work', capability: 'work', timeoutMs: 60_000, retry: { maxAttempts: 3, initialDelayMs: 300, multiplier: 1, maxDelayMs: 300, jitter: 0 } }).build();
    const { workflowId } = await engine.runtime.startWorkflow(def, {});
    await retryStored.promise;
    watching.unsubscribe();
    // The retry falls due while the store is gone for well over the 200 ms of append retries.
    await outage.server.close();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    outage.server = await startEsdbServer({ store: backing, port });
    expect((await engine.runtime.waitForEnd(workflowId)).status).toBe('completed');
    expect(calls).toBe(2);
  }, 20_000);

  it('drives a start that was stored but whose answer never came, though its own appends are not sent back to it', async () => {
    embedded = await startEmbedded();
    const adapter = await openEsdbStore(embedded.connectionString);
    // The start is stored, then every answer is lost until the runtime gives up (its subscription
    // leaves its own appends out, so nothing tells it the start is there but the stream itself).
    const { store, stopLosing } = losingStartAnswers(adapter);
    const called = deferred();
    engine = await startTestEngine({ store, agents: [agent('worker', ['work'], { work: () => { called.resolve(); return { done: true }; } })], runtime: { appendRetryLimitMs: 100 } });
    const def = workflow('unanswered').step({ id: 'work', action: 'work', capability: 'work', timeoutMs: 600_000 }).build();
    await expect(engine.runtime.startWorkflow(def, {}, { workflowId: 'unanswered-1' })).rejects.toThrow(UnavailableError);
    stopLosing();
    expect((await historyOf(adapter, 'unanswered-1')).map((event) => event.type)).toEqual(['WorkflowStarted', 'StepScheduled']);
    // Read back from its stream once the store answers: admitted, its step scheduled, the agent called
    // (the step's timeout is ten minutes away: nothing else would wake it within the test).
    const end = await Promise.race([
      engine.runtime.waitForEnd('unanswered-1'),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the unanswered start was not driven within 10 s')), 10_000).unref()),
    ]);
    expect(end.status).toBe('completed');
    await called.promise;
  }, 20_000);

  it('finishes a killed runtime process\'s workflows from a new process', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cadenza-esdb-crash-'));
    // The server (and its durable SQLite file) lives in this process; the runtimes are children.
    embedded = await startEmbedded({}, await openStore(`sqlite:${join(dir, 'server.db')}`));
    await expectCrashRecovery(embedded.connectionString, dir);
    await embedded.store.close();
  }, 180_000);
});
