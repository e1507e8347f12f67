import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listPoison, readCheckpoint } from '../../src/projections/bookkeeping.js';
import { catchUpProjections } from '../../src/projections/catch-up.js';
import { createProjection, projectionNames } from '../../src/projections/catalogue.js';
import { openReadModelDb, type ReadModelDb } from '../../src/projections/readmodel-db.js';
import { ProjectionRunner } from '../../src/projections/runner.js';
import { foldEvents } from '../../src/saga/evolve.js';
import { parseWorkflowEvent } from '../../src/saga/events.js';
import { stepStates } from '../../src/saga/state.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { readWorkflowStatus } from '../../projections/workflow-status/index.js';
import { waitFor } from '../support/wait-for.js';
import { comparableAuditRow, expectedReadModels, populate, readLog } from './fixtures/populate.js';
import { normalise, storedReadModels } from './fixtures/readmodels.js';

let store: EventStore;
let db: ReadModelDb;

beforeEach(async () => {
  store = await openStore('memory:');
  db = openReadModelDb(':memory:');
});

afterEach(async () => {
  db.close();
  await store.close();
});

async function expectReadModelsEqualFoldOfLog(): Promise<void> {
  const log = await readLog(store);
  const expected = expectedReadModels(log);
  const stored = storedReadModels(db);
  for (const model of ['workflow-status', 'step-metrics', 'agent-health'] as const) expect(expected[model].size).toBeGreaterThan(0);
  expect(normalise({ ...stored, 'audit-index': stored['audit-index'].map(comparableAuditRow) })).toEqual(
    normalise({ ...expected, 'audit-index': expected['audit-index'].map(comparableAuditRow) }),
  );
}

describe('projection runner', () => {
  it('folds every read model to what a fold of the log from zero gives, batch after batch', async () => {
    for (const round of [1, 2, 3]) {
      await populate(store, { workflows: 25, seed: round });
      // Small batches: many transactions, batch boundaries everywhere.
      await catchUpProjections(store, db, undefined, { batchSize: 7, checkpointInterval: 5 });
    }
    await expectReadModelsEqualFoldOfLog();
    const log = await readLog(store);
    for (const name of projectionNames) {
      const { filter } = createProjection(name);
      const mine = 'streamNamePrefix' in filter ? log.filter((e) => filter.streamNamePrefix.some((p) => e.stream.startsWith(p))) : log;
      // At least its last event; further only if a filter checkpoint passed later events of other streams.
      const checkpoint = readCheckpoint(db, name)?.position;
      expect(checkpoint?.commit).toBeGreaterThanOrEqual(mine.at(-1)!.position.commit);
      expect(checkpoint?.commit).toBeLessThanOrEqual(log.at(-1)!.position.commit);
      expect(readCheckpoint(db, name)?.eventsApplied).toBe(mine.length);
    }
  });

  it('rebuilds from zero to the same read models as the incremental run', async () => {
    await populate(store, { workflows: 20, seed: 11 });
    await catchUpProjections(store, db, undefined, { batchSize: 13 });
    await populate(store, { workflows: 20, seed: 12 });
    await catchUpProjections(store, db, undefined, { batchSize: 5 });
    const incremental = normalise(storedReadModels(db));
    for (const name of projectionNames) {
      const runner = new ProjectionRunner(store, db, createProjection(name), { batchSize: 500 });
      runner.rebuild();
      expect(readCheckpoint(db, name)?.eventsApplied).toBe(0);
      await runner.catchUp();
    }
    expect(normalise(storedReadModels(db))).toEqual(incremental);
  });

  it('records poison events with their reason, skips them, and folds the rest', async () => {
    await populate(store, { workflows: 3, seed: 21 });
    await store.append('workflow-poison', [
      { id: randomUUID(), type: 'StepLaunched', data: { workflowId: 'poison', at: 1 } },
      { id: randomUUID(), type: 'StepSucceeded', data: { workflowId: 'poison' }, metadata: { schemaVersion: 1 } },
      { id: randomUUID(), type: 'WorkflowCompleted', data: { workflowId: 'poison', at: 1, data: {}, skippedSteps: [], durationMs: 0 }, metadata: { schemaVersion: 99 } },
    ]);
    await store.append('agent-broken', [{ id: randomUUID(), type: 'AgentRegistered', data: { v: 1, agentId: 'broken' } }]);
    await populate(store, { workflows: 3, seed: 22 });
    await catchUpProjections(store, db, undefined, { batchSize: 4 });

    const poison = listPoison(db);
    const reasons = (projection: string) => poison.filter((p) => p.projection === projection).map((p) => `${p.eventType}: ${p.reason}`);
    for (const projection of ['workflow-status', 'step-metrics', 'agent-health']) {
      const found = reasons(projection);
      expect(found.some((r) => r.startsWith('StepLaunched:') && r.includes('Unknown workflow event type'))).toBe(true);
      expect(found.some((r) => r.startsWith('StepSucceeded:') && r.includes('stepId'))).toBe(true);
      expect(found.some((r) => r.startsWith('WorkflowCompleted:') && r.includes('schema version 99'))).toBe(true);
    }
    expect(reasons('agent-health').some((r) => r.startsWith('AgentRegistered:'))).toBe(true);
    expect(reasons('audit-index')).toEqual([]);
    // Workflows after the poison were folded.
    expect(readWorkflowStatus(db, 'wf-22-2', Date.now())).toMatchObject({ workflowId: 'wf-22-2', definition: { name: 'trading-pipeline' } });
    await expectReadModelsEqualFoldOfLog();
  });

  it('keeps the workflow status in line with the core evolve, step by step', async () => {
    const ids = await populate(store, { workflows: 30, seed: 31 });
    await catchUpProjections(store, db, ['workflow-status']);
    let compensated = 0;
    for (const id of ids) {
      const events = [];
      for await (const e of store.readStream(`workflow-${id}`)) events.push(parseWorkflowEvent(e.type, e.data, e.metadata, e.id));
      const state = foldEvents(events);
      const view = readWorkflowStatus(db, id, Date.now());
      expect(view?.status).toBe(state.status);
      expect(view?.revision).toBe(state.revision);
      const steps = stepStates(state);
      expect(view?.steps.completed).toBe(steps.filter((s) => s.status === 'succeeded').length);
      expect(view?.steps.running).toBe(steps.filter((s) => s.status === 'running').length);
      const compensating = events.some((e) => e.type === 'CompensationStarted');
      expect(view?.compensation !== undefined).toBe(compensating);
      if (compensating) compensated++;
      expect(view?.compensation?.compensated ?? 0).toBe(steps.filter((s) => s.compensation.status === 'succeeded').length);
    }
    // The seed gives both kinds: the comparison covered compensation progress too.
    expect(compensated).toBeGreaterThan(0);
    expect(compensated).toBeLessThan(ids.length);
  });

  it('two runners of one projection on one database never double-count: the later one resumes from the stored checkpoint', async () => {
    const first = new ProjectionRunner(store, db, createProjection('step-metrics'), { batchSize: 11 });
    const second = new ProjectionRunner(store, db, createProjection('step-metrics'), { batchSize: 17 });
    for (const seed of [81, 82, 83, 84]) {
      await populate(store, { workflows: 6, seed });
      // Each runner's in-memory checkpoint is stale whenever the other one committed last.
      await (seed % 2 === 0 ? first : second).catchUp();
    }
    await Promise.all([first.catchUp(), second.catchUp()]);
    await populate(store, { workflows: 6, seed: 85 });
    // A runner used again catches up to the new head, not just one batch.
    await first.catchUp();
    expect(await first.lag()).toMatchObject({ events: 0 });
    await catchUpProjections(store, db);
    await expectReadModelsEqualFoldOfLog();
  });

  it('rebuilds from zero when the stored read model has another version', async () => {
    await populate(store, { workflows: 5, seed: 91 });
    await catchUpProjections(store, db, ['workflow-status']);
    const previous = readCheckpoint(db, 'workflow-status');
    const next = createProjection('workflow-status').version + 1;
    const bumped = Object.assign(createProjection('workflow-status'), { version: next });
    const runner = new ProjectionRunner(store, db, bumped);
    expect(readCheckpoint(db, 'workflow-status')).toMatchObject({ version: next, eventsApplied: 0, position: undefined });
    await runner.catchUp();
    expect(readCheckpoint(db, 'workflow-status')?.eventsApplied).toBe(previous?.eventsApplied);
  });

  it('catches up on an empty store', async () => {
    const statuses = await catchUpProjections(store, db);
    expect(statuses.map((s) => [s.projection, s.eventsApplied, s.caughtUp])).toEqual(projectionNames.map((name) => [name, 0, true]));
  });

  it('measures lag as the events of its streams after the checkpoint', async () => {
    await populate(store, { workflows: 5, seed: 41 });
    const runner = new ProjectionRunner(store, db, createProjection('workflow-status'));
    const log = (await readLog(store)).filter((e) => e.stream.startsWith('workflow-'));
    expect((await runner.lag()).events).toBe(log.length);
    await runner.catchUp();
    expect(await runner.lag()).toEqual({ events: 0, capped: false, head: undefined });
    await store.append('workflow-extra', [{ id: randomUUID(), type: 'Anything', data: {} }]);
    await store.append('other-stream', [{ id: randomUUID(), type: 'Anything', data: {} }]);
    expect((await runner.lag()).events).toBe(1);
    expect((await runner.lag(0)).capped).toBe(true);
  });

  it('follows live events until stopped', async () => {
    const commits: number[] = [];
    const live = new ProjectionRunner(store, db, createProjection('audit-index'), { onCommit: (p) => commits.push(p.events) });
    const running = live.run();
    await populate(store, { workflows: 4, seed: 51 });
    const total = (await readLog(store)).length;
    await waitFor(() => live.status().eventsApplied >= total, { what: `the live runner to apply all ${total} events` });
    await live.stop();
    await running;
    expect(live.status().running).toBe(false);
    expect(commits.reduce((a, b) => a + b, 0)).toBe(total);
    await catchUpProjections(store, db);
    await expectReadModelsEqualFoldOfLog();
  });
});
