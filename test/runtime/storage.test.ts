/**
 * Storage per workflow: a definition is stored once per hash and WorkflowStarted refers to it; the
 * metadata holds only what the stream name and the data do not. Stores written before (definition
 * inline, metadata with the workflow id and hash) still replay, resume and fork; a trading workflow
 * costs at most 11 KB on the embedded store's disk.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentRegistry } from '../../src/agents/index.js';
import { forkWorkflow } from '../../src/operations/fork.js';
import { decide } from '../../src/saga/decide.js';
import { evolve } from '../../src/saga/evolve.js';
import { EventParseError, type WorkflowEvent } from '../../src/saga/events.js';
import { SagaRuntime } from '../../src/saga/runtime/index.js';
import { initialState, type WorkflowState } from '../../src/saga/state.js';
import { definitionStream, replayWorkflow, workflowStream } from '../../src/saga/stream/index.js';
import type { Trigger } from '../../src/saga/triggers.js';
import { formatStoreInfo, storeInfo } from '../../src/cli/commands/store-info.js';
import { openStore } from '../../src/store/open.js';
import type { EventData, EventStore, Json } from '../../src/store/port.js';
import { workflow } from '../../src/workflow/index.js';
import { tradingPipeline } from '../../sagas/trading/definition.js';
import { createTradingAgents } from '../../sagas/trading/agents.js';
import { agent, dataOf, historyOf, startTestEngine, type TestEngine } from './support.js';

let engine: TestEngine | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const tradeInput = { symbol: 'ACME', side: 'buy', quantity: 10, account: 'acct-1' };

/** Decides `triggers` in order from the empty state and writes each decision as builds before this change did. */
async function appendOldFormat(store: EventStore, workflowId: string, triggers: readonly Trigger[], now = Date.now()): Promise<WorkflowState> {
  let state: WorkflowState = initialState(workflowId);
  let revision: bigint | 'no_stream' = 'no_stream';
  let cause = 'command:start:old';
  for (const trigger of triggers) {
    const events = decide(state, trigger, { now, random: () => 0.5, candidates: () => ['old-agent'], deciderId: 'old-runtime' });
    const definitionHash = events[0]?.type === 'WorkflowStarted' ? events[0].data.definitionHash : state.status === 'idle' ? '' : state.definitionHash;
    const data: EventData[] = events.map((event: WorkflowEvent) => ({
      id: event.id,
      type: event.type,
      data: event.data as unknown as Json,
      metadata: { workflowId, correlationId: workflowId, causationId: cause, definitionHash, schemaVersion: 1 },
    }));
    revision = (await store.append(workflowStream(workflowId), data, { expectedRevision: revision })).nextExpectedRevision;
    for (const event of events) state = evolve(state, event);
    cause = events.at(-1)?.id ?? cause;
  }
  return state;
}

const pair = workflow('old-pair')
  .step({ id: 'first', action: 'first', capability: 'old', timeoutMs: 60_000 })
  .step({ id: 'second', action: 'second', capability: 'old', dependsOn: ['first'], timeoutMs: 60_000 })
  .build();

describe('definitions stored once per hash', () => {
  it('stores a definition once for many workflows, and a start holds its hash, not the definition', async () => {
    engine = await startTestEngine({ agents: [agent('worker', ['old'], { first: () => ({ ok: 1 }), second: () => ({ ok: 2 }) })] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await engine.runtime.startWorkflow(pair, {})).workflowId);
    for (const id of ids) expect((await engine.runtime.waitForEnd(id)).status).toBe('completed');
    const started = (await historyOf(engine.store, ids[0]!))[0]!;
    expect(started.type).toBe('WorkflowStarted');
    expect(dataOf(started)).not.toHaveProperty('definition');
    const hash = dataOf(started).definitionHash as string;
    const stored = [];
    for await (const event of engine.store.readStream(definitionStream(hash))) stored.push(event);
    expect(stored).toHaveLength(1);
    expect((stored[0]!.data as { name: string }).name).toBe('old-pair');
    // Read back whole: replay gives the definition back.
    const { state } = await replayWorkflow(engine.store, ids[2]!);
    expect(state.status === 'completed' && state.definition.steps.map((s) => s.id)).toEqual(['first', 'second']);
  });

  it('reads a start whose definition this process has never seen from the store, and refuses a definition that does not match its hash', async () => {
    const store = await openStore('memory:');
    try {
      const unseen = workflow(`unseen-${Date.now()}`).step({ id: 'only', action: 'only', capability: 'x' }).build();
      const [started] = decide(initialState('w-unseen'), { kind: 'command', command: { type: 'start', workflowId: 'w-unseen', definition: unseen, input: {} } }, { now: 1, random: () => 0.5, candidates: () => [] });
      if (started?.type !== 'WorkflowStarted') throw new Error('expected a start');
      const { definition, ...byReference } = started.data;
      // Written by hand, as another process would have: the definition stream, then the start.
      await store.append(definitionStream(started.data.definitionHash), [{ id: crypto.randomUUID(), type: 'WorkflowDefinitionStored', data: definition as unknown as Json }], { expectedRevision: 'no_stream' });
      await store.append(workflowStream('w-unseen'), [{ id: started.id, type: 'WorkflowStarted', data: byReference as unknown as Json, metadata: { causationId: 'c', schemaVersion: 2 } }], { expectedRevision: 'no_stream' });
      const { state } = await replayWorkflow(store, 'w-unseen');
      expect(state.status === 'running' && state.definition.name).toBe(unseen.name);

      // A definition stream whose content is not what its name says is refused, naming both hashes.
      const other = workflow(`tampered-${Date.now()}`).step({ id: 'only', action: 'only', capability: 'x' }).build();
      const [tampered] = decide(initialState('w-tampered'), { kind: 'command', command: { type: 'start', workflowId: 'w-tampered', definition: other, input: {} } }, { now: 1, random: () => 0.5, candidates: () => [] });
      if (tampered?.type !== 'WorkflowStarted') throw new Error('expected a start');
      const { definition: _real, ...tamperedData } = tampered.data;
      await store.append(definitionStream(tampered.data.definitionHash), [{ id: crypto.randomUUID(), type: 'WorkflowDefinitionStored', data: { ...unseen, name: 'not-it' } as unknown as Json }], { expectedRevision: 'no_stream' });
      await store.append(workflowStream('w-tampered'), [{ id: tampered.id, type: 'WorkflowStarted', data: tamperedData as unknown as Json, metadata: { schemaVersion: 2 } }], { expectedRevision: 'no_stream' });
      const refused = replayWorkflow(store, 'w-tampered');
      await expect(refused).rejects.toBeInstanceOf(EventParseError);
      await expect(replayWorkflow(store, 'w-tampered')).rejects.toThrow(`not ${tampered.data.definitionHash}`);
    } finally {
      await store.close();
    }
  });
});

describe('a store written in the old format', () => {
  it('replays, resumes and forks workflows whose starts carry the definition inline', async () => {
    const store = await openStore('memory:');
    const start = (workflowId: string): Trigger => ({ kind: 'command', command: { type: 'start', workflowId, definition: pair, input: {} } });
    // One finished, one with its first step in flight when the old runtime stopped.
    const done = await appendOldFormat(store, 'old-done', [
      start('old-done'),
      { kind: 'stepResult', stepId: 'first', attempt: 1, outcome: { ok: true, output: { ok: 1 } } },
      { kind: 'stepResult', stepId: 'second', attempt: 1, outcome: { ok: true, output: { ok: 2 } } },
    ]);
    expect(done.status).toBe('completed');
    await appendOldFormat(store, 'old-running', [start('old-running')]);
    expect(dataOf((await historyOf(store, 'old-running'))[0]!)).toHaveProperty('definition');

    const calls: string[] = [];
    engine = await startTestEngine({ store, agents: [agent('old-agent', ['old'], { first: (_input, ctx) => (calls.push(`first:${ctx.idempotencyKey}`), { ok: 1 }), second: () => (calls.push('second'), { ok: 2 }) })] });
    // Resumed on start-up: the call in flight is re-sent under its key, and the workflow finishes.
    expect((await engine.runtime.waitForEnd('old-running')).status).toBe('completed');
    expect(calls).toEqual(['first:old-running:first', 'second']);

    // Replayed at every revision.
    const atStart = await replayWorkflow(store, 'old-done', { revision: 0n });
    expect(atStart.state.status === 'running' && atStart.state.definition.name).toBe('old-pair');
    expect((await replayWorkflow(store, 'old-done')).state).toEqual(done);

    // Forked after its first step: the fork's start refers to the definition, which is now stored.
    const plan = await forkWorkflow(store, 'old-done', 1n, { workflowId: 'old-fork', candidates: () => ['old-agent'] });
    expect(plan.reused).toEqual([]);
    const forkStart = (await historyOf(store, 'old-fork'))[0]!;
    expect(dataOf(forkStart)).not.toHaveProperty('definition');
    expect(forkStart.metadata).toMatchObject({ forkedFrom: 'old-done', schemaVersion: 2 });
    let stored = 0;
    for await (const _event of store.readStream(definitionStream(done.status === 'idle' ? '' : done.definitionHash))) stored++;
    expect(stored).toBe(1);
    await engine.runtime.adopt('old-fork');
    expect((await engine.runtime.waitForEnd('old-fork')).status).toBe('completed');
    await engine.stop();
    engine = undefined;
    await store.close();
  });
});

describe('bytes per workflow', () => {
  it('stores a trading workflow in at most 11 KB on the embedded store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cadenza-storage-'));
    dirs.push(dir);
    const file = join(dir, 'events.db');
    // Closing checkpoints the WAL into the file: its size is then what the events take.
    const run = async (count: number): Promise<number> => {
      const store = await openStore(`sqlite:${file}`);
      const registry = await AgentRegistry.open({ store });
      for (const definition of createTradingAgents({ failureRate: 0, rejectionRate: 0, postTradeFailureRate: 0, latencyMs: 0, replicas: 1 }).agents) await registry.register(definition);
      const runtime = await SagaRuntime.start({ store, registry });
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push((await runtime.startWorkflow(tradingPipeline, tradeInput)).workflowId);
      for (const id of ids) expect((await runtime.waitForEnd(id)).status).toBe('completed');
      await runtime.stop();
      await registry.close();
      await store.close();
      return statSync(file).size;
    };
    // The first run pays for the schema, the agents' registrations and the definition.
    const before = await run(10);
    const after = await run(60);
    const perWorkflow = (after - before) / 60;
    expect(perWorkflow).toBeLessThanOrEqual(11 * 1024);

    // `cadenza store info` says the same from the store: 70 workflows of one definition.
    const store = await openStore(`sqlite:${file}`);
    try {
      const info = await storeInfo(store, `sqlite:${file}`);
      let events = 0;
      for await (const _event of store.readAll()) events++;
      expect(info).toMatchObject({ events, workflows: 70, definitions: 1 });
      expect(info.fileBytes).toBeGreaterThanOrEqual(after);
      expect(info.bytesPerWorkflow).toBe(Math.round((info.fileBytes ?? 0) / 70));
      expect(formatStoreInfo(info)).toContain(`${events} events, 70 workflows, 1 definition,`);
    } finally {
      await store.close();
    }
  });
});
