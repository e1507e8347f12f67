/**
 * The store contract through the real @eventstore/db-client and our adapter: against the embedded
 * EventStoreDB-compatible server (always), and against a real EventStoreDB when
 * ESDB_CONNECTION_STRING is set.
 */
import { describe, expect, it } from 'vitest';
import { openEsdbStore } from '../../src/store/esdb.js';
import { describeEventStoreContract } from '../store/contract/event-store-contract.js';
import { startEmbedded } from './support.js';

describeEventStoreContract('esdb adapter -> embedded server (memory:)', async () => {
  const embedded = await startEmbedded();
  const store = await openEsdbStore(embedded.connectionString);
  return { store, cleanup: () => embedded.stop() };
}, { exactCheckpoints: true });

// The same through Append: a server that does not advertise BatchAppend makes the client fall back.
describeEventStoreContract('esdb adapter -> embedded server without BatchAppend (memory:)', async () => {
  const embedded = await startEmbedded({ batchAppend: false });
  const store = await openEsdbStore(embedded.connectionString);
  return { store, cleanup: () => embedded.stop() };
}, { exactCheckpoints: true });

const realServer = process.env.ESDB_CONNECTION_STRING?.trim();
if (realServer) {
  // A shared, real server: other writers share its log, and it checkpoints on its own schedule.
  describeEventStoreContract(`esdb adapter -> real EventStoreDB (${realServer})`, async () => ({
    store: await openEsdbStore(realServer),
  }));
} else {
  describe('esdb adapter -> real EventStoreDB: NOT CONFIGURED (set ESDB_CONNECTION_STRING to run the contract against one)', () => {
    it('reports that the real-server contract run was not configured', () => {
      console.warn('ESDB_CONNECTION_STRING is not set: the store contract did not run against a real EventStoreDB.');
      expect(process.env.ESDB_CONNECTION_STRING?.trim() ?? '').toBe('');
    });
  });
}
