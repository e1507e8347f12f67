/**
 * The runner only talks to the event store port, so read models work on every backend. Here the
 * store is EventStoreDB's client and our adapter, over real gRPC, to the embedded
 * EventStoreDB-compatible server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEsdbServer, type EsdbServer } from '../../src/esdb-server/index.js';
import { catchUpProjections } from '../../src/projections/catch-up.js';
import { openReadModelDb } from '../../src/projections/readmodel-db.js';
import { replayWorkflow } from '../../src/saga/stream/index.js';
import { openEsdbStore } from '../../src/store/esdb.js';
import { openStore } from '../../src/store/open.js';
import type { EventStore } from '../../src/store/port.js';
import { comparableAuditRow, expectedReadModels, populate, readLog } from './fixtures/populate.js';
import { normalise, storedReadModels } from './fixtures/readmodels.js';

let backing: EventStore;
let server: EsdbServer;
let store: EventStore;

beforeAll(async () => {
  backing = await openStore('memory:');
  server = await startEsdbServer({ store: backing, port: 0 });
  store = await openEsdbStore(`esdb://127.0.0.1:${server.port}?tls=false`);
});

afterAll(async () => {
  await store.close();
  await server.close();
  await backing.close();
});

describe('projections on the EventStoreDB path', () => {
  it('fold the same read models as from the log, and replay reads the stream', async () => {
    const ids = await populate(store, { workflows: 12, seed: 501 });
    const db = openReadModelDb(':memory:');
    await catchUpProjections(store, db, undefined, { batchSize: 9, checkpointInterval: 4 });
    await populate(store, { workflows: 6, seed: 502 });
    await catchUpProjections(store, db, undefined, { batchSize: 50 });
    const log = await readLog(store);
    const expected = expectedReadModels(log);
    const stored = storedReadModels(db);
    expect(normalise({ ...stored, 'audit-index': stored['audit-index'].map(comparableAuditRow) })).toEqual(
      normalise({ ...expected, 'audit-index': expected['audit-index'].map(comparableAuditRow) }),
    );
    db.close();
    const { events } = await replayWorkflow(store, ids[0]!);
    expect(events).toBe(log.filter((e) => e.stream === `workflow-${ids[0]}`).length);
  });
});
